namespace Tollgate.Protocol.Translation;

/// <summary>
/// The translations Tollgate knows between the protocols callers speak and those upstreams speak: which caller
/// endpoint can be served through which upstream endpoint, and the <see cref="ITranslatingProtocol"/> that does it
/// over the upstream's own side of that endpoint.
/// </summary>
public static class ProtocolTranslations
{
    /// <summary>One known translation.</summary>
    /// <param name="Caller">The endpoint the caller calls.</param>
    /// <param name="Upstream">The upstream endpoint it is served through.</param>
    /// <param name="Create">
    /// The translating side, over the upstream's own side of <paramref name="Upstream"/>. What it makes is kept and
    /// shared by every request: it holds no state of its own (a stream's state lives in its <see cref="IStreamTranslator"/>).
    /// </param>
    public sealed record Translation(ApiEndpoint Caller, ApiEndpoint Upstream, Func<IUpstreamProtocol, ITranslatingProtocol> Create);

    // In order of preference for each caller endpoint.
    private static readonly Translation[] s_all =
    [
        new(ApiEndpoint.Responses, ApiEndpoint.ChatCompletions, static chat => new ResponsesToChatProtocol(chat)),
        new(ApiEndpoint.Messages, ApiEndpoint.ChatCompletions, static upstream => new MessagesOverChat(upstream)),
        new(ApiEndpoint.ChatCompletions, ApiEndpoint.Messages, static upstream => new ChatOverMessages(upstream, TimeProvider.System)),
    ];

    // The translating sides made so far, one per translation and upstream side: they hold no state of their own.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(Translation, IUpstreamProtocol), ITranslatingProtocol> s_made = new();

    /// <summary>Every known translation.</summary>
    public static IReadOnlyList<Translation> All => s_all;

    /// <summary>
    /// The translating side that serves <paramref name="caller"/> through an endpoint the upstream speaks, or null
    /// when none does. <paramref name="speaks"/> gives the upstream's own side of an endpoint, or null when it does
    /// not speak it.
    /// </summary>
    public static ITranslatingProtocol? Find(ApiEndpoint caller, Func<ApiEndpoint, IUpstreamProtocol?> speaks)
    {
        ArgumentNullException.ThrowIfNull(speaks);
        foreach (var translation in s_all)
        {
            if (translation.Caller == caller && speaks(translation.Upstream) is { } upstream)
            {
                return s_made.GetOrAdd((translation, upstream), static key => key.Item1.Create(key.Item2));
            }
        }

        return null;
    }
}
