using System.Buffers;
using System.Text;

namespace Tollgate.Protocol;

/// <summary>
/// The upstream side of a protocol: writes the body an upstream receives for a <see cref="ModelRequest"/> (with the
/// fields policy rewrites) and reads the usage back from a response body or a stream event. The caller side and the
/// upstream side meet in <see cref="ModelRequest"/> and <see cref="ResponseScan"/>, so a protocol can be relayed to
/// an upstream that speaks it, or (with a translating pair) to one that speaks another.
/// </summary>
public interface IUpstreamProtocol
{
    /// <summary>
    /// The protocol that serves <paramref name="endpoint"/> on this upstream: itself unless the upstream speaks an
    /// endpoint with a shape of its own (OpenAI's Responses API beside its chat completions).
    /// </summary>
    IUpstreamProtocol ForEndpoint(ApiEndpoint endpoint) => this;

    /// <summary>The path of <paramref name="endpoint"/> relative to the upstream's base address.</summary>
    string PathFor(ApiEndpoint endpoint);

    /// <summary>Writes the upstream's body for <paramref name="request"/> into <paramref name="output"/>.</summary>
    void WriteRequest(ModelRequest request, in UpstreamRewrite rewrite, IBufferWriter<byte> output);

    /// <summary>Reads a whole response body; appends the generated text to <paramref name="generated"/> when given.</summary>
    ResponseScan ReadResponse(ReadOnlySpan<byte> body, StringBuilder? generated);

    /// <summary>Reads one stream event's data; appends the generated text to <paramref name="generated"/> when given.</summary>
    ResponseScan ReadEvent(ReadOnlySpan<byte> data, StringBuilder? generated);

    /// <summary>Whether <paramref name="data"/> is the event that ends the stream (OpenAI's <c>[DONE]</c>).</summary>
    bool IsEndOfStream(ReadOnlySpan<byte> data);

    /// <summary>
    /// A reader of one stream's events, in order. A protocol whose usage spans several events (Anthropic's
    /// <c>message_start</c> and <c>message_delta</c>) keeps what it has read there; by default each event is read on its
    /// own with <see cref="ReadEvent"/>.
    /// </summary>
    IUpstreamStreamReader OpenStream() => new StatelessStreamReader(this);

    /// <summary>The caller's request headers forwarded upstream verbatim (Anthropic's <c>anthropic-version</c> and <c>anthropic-beta</c>).</summary>
    IReadOnlyList<string> ForwardedHeaders => [];

    /// <summary>
    /// Whether the response cache may keep answers to <paramref name="endpoint"/> in this protocol: it says which
    /// answers may be stored (<see cref="IsStorableAnswer"/>), assembles streams into them (<see cref="AssembleStream"/>),
    /// and the caller side replays them. A protocol that does not (the default) is never cached.
    /// </summary>
    bool CachesAnswers(ApiEndpoint endpoint) => false;

    /// <summary>
    /// Whether a whole, successful response body to <paramref name="endpoint"/> may be stored by the response cache:
    /// an answer (not an error), every choice finished and none content-filtered. A protocol that does not say
    /// (the default) has its answers never stored.
    /// </summary>
    bool IsStorableAnswer(ApiEndpoint endpoint, ReadOnlySpan<byte> body) => false;

    /// <summary>
    /// A new assembler of a stream to <paramref name="endpoint"/> into the plain answer the response cache stores, at
    /// most <paramref name="maxBytes"/> long; null (the default) when this protocol's streams are never stored.
    /// </summary>
    IStreamAnswerAssembler? AssembleStream(ApiEndpoint endpoint, int maxBytes) => null;
}

/// <summary>Reads the events of one upstream stream, in order (see <see cref="IUpstreamProtocol.OpenStream"/>).</summary>
public interface IUpstreamStreamReader
{
    /// <summary>
    /// Reads the next event's data; appends the generated text to <paramref name="generated"/> when given. Its usage,
    /// when it has one, is the stream's usage so far.
    /// </summary>
    ResponseScan ReadEvent(ReadOnlySpan<byte> data, StringBuilder? generated);

    /// <summary>Whether <paramref name="data"/> is the event that ends the stream.</summary>
    bool IsEndOfStream(ReadOnlySpan<byte> data);
}

/// <summary>A stream whose events each stand alone.</summary>
internal sealed class StatelessStreamReader(IUpstreamProtocol protocol) : IUpstreamStreamReader
{
    public ResponseScan ReadEvent(ReadOnlySpan<byte> data, StringBuilder? generated) => protocol.ReadEvent(data, generated);

    public bool IsEndOfStream(ReadOnlySpan<byte> data) => protocol.IsEndOfStream(data);
}

/// <summary>What policy changes in the body sent upstream.</summary>
/// <param name="Model">The upstream's id of the model (aliases resolved).</param>
/// <param name="CapField">The output cap field to set, or null to leave the caller's as sent.</param>
/// <param name="Cap">The output cap, when <paramref name="CapField"/> is set.</param>
/// <param name="ChatCapField">
/// The model's output cap field on chat completions (<see cref="Configuration.ModelDefinition.OutputCapParameter"/>):
/// where a request translated to chat carries <paramref name="Cap"/>.
/// </param>
public readonly record struct UpstreamRewrite(string Model, string? CapField, long Cap, string ChatCapField = "max_completion_tokens")
{
    /// <summary>
    /// The <c>max_tool_calls</c> to add (Responses API): the hosted tool calls reserved for a request that set none;
    /// null to leave the body as sent.
    /// </summary>
    public long? ToolCallCap { get; init; }

    /// <summary>
    /// The rewrite of a request admitted as <paramref name="admission"/> to <paramref name="model"/>: the one the
    /// forward step sends and the response cache's key is computed on.
    /// </summary>
    public static UpstreamRewrite For(Configuration.ModelDefinition model, Limits.Admission admission)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(admission);
        return new(model.UpstreamModel, admission.CapChanged ? admission.CapField : null, admission.OutputCap, model.OutputCapParameter)
        {
            ToolCallCap = admission.ToolCalls.SendCap ? admission.ToolCalls.Calls : null,
        };
    }
}
