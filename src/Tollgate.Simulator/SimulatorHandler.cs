namespace Tollgate.Simulator;

/// <summary>
/// The simulated upstream as an <see cref="HttpMessageHandler"/>: the gateway's <see cref="HttpClient"/> calls the
/// model in process, with no socket. Routes are matched on the end of the path, so any base address works
/// (e.g. <c>http://simulator/v1/</c>). The body arrives as it is written, through a pipe.
/// </summary>
internal sealed class SimulatorHandler(SimulatorResponder responder) : HttpMessageHandler
{
    /// <inheritdoc/>
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string path = request.RequestUri?.AbsolutePath ?? "/";
        var kind = Route(request.Method, path);
        byte[] body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        string? clientRequestId = request.Headers.TryGetValues(SimulatorResponseHead.ClientRequestIdHeader, out var values)
            ? values.FirstOrDefault()
            : null;

        var exchange = new SimulatorHandlerExchange(request);
        var storedRoute = StoredRoute(request.Method, path);
        _ = exchange.RunAsync(
            (response, token) => storedRoute is { } route
                ? responder.ServeStoredAsync(request.Method.Method, route.Id, route.Cancel, response, token)
                : kind is { } known
                ? responder.ServeAsync(known, body, clientRequestId, response, token)
                : SimulatorResponder.ServeUnknownAsync(request.Method.Method, path, response, token),
            cancellationToken);
        return await exchange.Response;
    }

    // GET or DELETE …/responses/{id}, POST …/responses/{id}/cancel.
    private static (string Id, bool Cancel)? StoredRoute(HttpMethod method, string path)
    {
        path = path.TrimEnd('/');
        int at = path.LastIndexOf("/responses/", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        string rest = Uri.UnescapeDataString(path[(at + "/responses/".Length)..]);
        if (method == HttpMethod.Post && rest.EndsWith("/cancel", StringComparison.Ordinal) && rest.IndexOf('/') == rest.Length - "/cancel".Length)
        {
            return (rest[..^"/cancel".Length], true);
        }

        return (method == HttpMethod.Get || method == HttpMethod.Delete) && rest.Length > 0 && !rest.Contains('/') ? (rest, false) : null;
    }

    private static SimulatorEndpointKind? Route(HttpMethod method, string path)
    {
        path = path.TrimEnd('/');
        if (method == HttpMethod.Post)
        {
            if (path.EndsWith("/messages/count_tokens", StringComparison.Ordinal))
            {
                return SimulatorEndpointKind.MessagesCountTokens;
            }

            if (path.EndsWith("/messages", StringComparison.Ordinal))
            {
                return SimulatorEndpointKind.Messages;
            }

            if (path.EndsWith("/chat/completions", StringComparison.Ordinal))
            {
                return SimulatorEndpointKind.ChatCompletions;
            }

            if (path.EndsWith("/completions", StringComparison.Ordinal))
            {
                return SimulatorEndpointKind.Completions;
            }

            if (path.EndsWith("/responses", StringComparison.Ordinal))
            {
                return SimulatorEndpointKind.Responses;
            }

            if (path.EndsWith("/embeddings", StringComparison.Ordinal))
            {
                return SimulatorEndpointKind.Embeddings;
            }
        }
        else if (method == HttpMethod.Get && path.EndsWith("/models", StringComparison.Ordinal))
        {
            return SimulatorEndpointKind.Models;
        }

        return null;
    }
}
