using Tollgate.Configuration;
using Tollgate.Protocol;
using Tollgate.Upstreams;

namespace Tollgate.Background;

/// <summary>What the upstream answered to a retrieval or cancel of a stored response: its status and body, or no answer (status 0).</summary>
internal readonly record struct StoredResponseAnswer(int Status, byte[]? Body)
{
    public bool Reached => Status != 0;
}

/// <summary>
/// The gateway's own calls to a background response's upstream (<c>GET /responses/{id}</c>, <c>POST …/cancel</c>),
/// placed and authenticated by the upstream's kind as a caller's would be, bounded by its response timeout and the
/// gateway's <c>MaxResponseBodyBytes</c>.
/// </summary>
internal static class BackgroundUpstream
{
    public static async Task<StoredResponseAnswer> SendAsync(UpstreamClients upstreams, GatewayConfig config, ModelDefinition model, string responseId,
        bool cancel, string requestId, CancellationToken cancellationToken)
    {
        if (!config.Options.Upstreams.TryGetValue(model.UpstreamName, out var options))
        {
            return default;
        }

        using var lease = upstreams.Rent(model.UpstreamName, options);
        var upstream = lease.Client;
        string path = upstream.PathFor("responses/" + Uri.EscapeDataString(responseId) + (cancel ? "/cancel" : ""), ApiEndpoint.Responses, model.UpstreamModel);
        using var message = new HttpRequestMessage(cancel ? HttpMethod.Post : HttpMethod.Get, new Uri(upstream.BaseAddress, path));
        message.Headers.TryAddWithoutValidation("x-client-request-id", requestId);
        upstream.PrepareRequest(message);
        if (cancel)
        {
            message.Content = new ByteArrayContent([]);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ResponseTimeout);
        try
        {
            using var response = await upstream.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (response.Content.Headers.ContentLength > config.Options.Gateway.MaxResponseBodyBytes)
            {
                return default;
            }

            byte[] body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            return body.Length > config.Options.Gateway.MaxResponseBodyBytes ? default : new StoredResponseAnswer((int)response.StatusCode, body);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            return default;
        }
    }
}
