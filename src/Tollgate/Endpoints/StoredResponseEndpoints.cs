using Tollgate.Background;
using Tollgate.Limits;
using Tollgate.Configuration;
using Tollgate.Pipeline;
using Tollgate.Pipeline.Steps;
using Tollgate.Protocol;
using Tollgate.Proxy;
using Tollgate.Responses;
using Tollgate.Upstreams;

namespace Tollgate.Endpoints;

/// <summary>
/// The stored responses of the Responses API: <c>GET /v1/responses/{id}</c>, <c>DELETE /v1/responses/{id}</c> and
/// <c>POST /v1/responses/{id}/cancel</c>. Only the key that created a response may reach it (any other gets the 404 of a
/// response that does not exist); each call is forwarded to the upstream that holds it, audited, and never billed
/// tokens or money — the response was billed once, when it was created, or, for a background response, when a
/// retrieval or cancel (or the gateway's own poll) first shows it ended (<see cref="BackgroundResponses"/>). A
/// background response still running cannot be deleted (409 <c>background_in_progress</c>): cancel it first.
/// </summary>
internal static class StoredResponseEndpoints
{
    public static RouteGroupBuilder MapStoredResponses(this RouteGroupBuilder v1)
    {
        v1.MapGet("/responses/{id}", (HttpContext http, string id, RequestPipeline pipeline) =>
            pipeline.HandleAuthenticatedAsync(http, "responses.retrieve", exchange => ForwardAsync(exchange, id, HttpMethod.Get, "")));
        v1.MapDelete("/responses/{id}", (HttpContext http, string id, RequestPipeline pipeline) =>
            pipeline.HandleAuthenticatedAsync(http, "responses.delete", exchange => ForwardAsync(exchange, id, HttpMethod.Delete, "")));
        v1.MapPost("/responses/{id}/cancel", (HttpContext http, string id, RequestPipeline pipeline) =>
            pipeline.HandleAuthenticatedAsync(http, "responses.cancel", exchange => ForwardAsync(exchange, id, HttpMethod.Post, "/cancel")));
        return v1;
    }

    private static async Task<GatewayError?> ForwardAsync(RequestContext context, string id, HttpMethod method, string suffix)
    {
        var http = context.Http;
        var services = http.RequestServices;
        var stored = await services.GetRequiredService<IResponseOwnerStore>().FindAsync(id, http.RequestAborted).ConfigureAwait(false);
        if (stored is null || stored.KeyId != context.Caller?.KeyId || !context.Config.TryGetModel(stored.Model, out var model))
        {
            return PreviousResponseStep.NotFound(id, null);
        }

        if (http.Request.Query.TryGetValue("stream", out var stream) && stream.ToString() is "true")
        {
            return GatewayError.InvalidRequest("Streaming a stored response is not supported through this gateway.", "stream", ErrorCodes.ParamNotAllowed);
        }

        context.RequestedModel = model.Name;
        context.Model = model;
        if (context.Config.Options.Plans.TryGetValue(context.Caller!.Plan, out var plan) && plan.CountStoredResponseCalls)
        {
            // The plan counts these calls against its request limits (nothing else: they bill no tokens or money).
            context.SourceAddress = SourceAddress.Resolve(http, context.Config.Options.SourceAddresses.TrustedProxies);
            if (await services.GetRequiredService<AdmissionPolicy>().CountRequestAsync(context.Caller, model, context.Config, context.SourceAddress,
                services.GetRequiredService<TimeProvider>().GetUtcNow(), http.RequestAborted).ConfigureAwait(false) is { } refusal)
            {
                return refusal;
            }
        }
        var background = services.GetRequiredService<BackgroundResponses>();
        var running = background.Find(id);
        if (running is not null && method == HttpMethod.Delete && !await background.SettleIfEndedAsync(running, http.RequestAborted).ConfigureAwait(false))
        {
            return new GatewayError(409, ErrorTypes.InvalidRequest, ErrorCodes.BackgroundInProgress,
                $"The background response '{id}' is still running, so its bill is not known yet; cancel it (POST /v1/responses/{id}/cancel) before deleting it.");
        }

        var options = context.Config.Options.Upstreams[model.UpstreamName];
        using var lease = services.GetRequiredService<UpstreamClients>().Rent(model.UpstreamName, options);
        var upstream = lease.Client;
        // The upstream's kind places the path and adds its credential (e.g. Azure's api-version and api-key).
        string path = upstream.PathFor("responses/" + Uri.EscapeDataString(id) + suffix, ApiEndpoint.Responses, model.UpstreamModel);
        using var message = new HttpRequestMessage(method, new Uri(upstream.BaseAddress, path));
        message.Headers.TryAddWithoutValidation("x-client-request-id", context.RequestId);
        CallerHeaders.CopyTraceContext(http.Request.Headers, message);
        upstream.PrepareRequest(message);

        if (method == HttpMethod.Post)
        {
            message.Content = new ByteArrayContent([]);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        timeout.CancelAfter(options.ResponseTimeout);
        byte[] body;
        int status;
        try
        {
            using var response = await upstream.Http.SendAsync(message, timeout.Token).ConfigureAwait(false);
            status = (int)response.StatusCode;
            context.UpstreamStatus = status;
            body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError, $"The upstream for '{model.Name}' could not be reached.");
        }

        if (body.Length > context.Config.Options.Gateway.MaxResponseBodyBytes)
        {
            return new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError, $"The upstream for '{model.Name}' returned a response too large to relay.");
        }

        if (status >= 500)
        {
            return new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError, $"The upstream for '{model.Name}' failed ({status}).");
        }

        if (status == 404)
        {
            // The upstream no longer holds it (deleted, expired): as if it did not exist.
            return PreviousResponseStep.NotFound(id, null);
        }

        if (status >= 400)
        {
            return GatewayError.InvalidRequest($"The upstream for '{model.Name}' refused the request ({status}).");
        }

        if (running is not null && method != HttpMethod.Delete)
        {
            // The answer shows the response's state: if it has ended, it is billed now, once, before the caller reads it.
            await background.ObserveAsync(running, body).ConfigureAwait(false);
        }

        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, CancellationToken.None).ConfigureAwait(false);
        return null;
    }
}

/// <summary>
/// <c>POST /v1/responses/input_tokens</c>: the input tokens a Responses request would be billed, counted by the gateway
/// (the model's tokenizer, and for a <c>previous_response_id</c> the chain the ledger knows, owner only). Read and
/// checked like a request to <c>/v1/responses</c>, audited, never forwarded and never billed.
/// </summary>
internal static class InputTokensEndpoint
{
    public static RouteGroupBuilder MapResponseInputTokens(this RouteGroupBuilder v1)
    {
        v1.MapPost("/responses/input_tokens", (HttpContext http, RequestPipeline pipeline) =>
            pipeline.HandleAuthenticatedAsync(http, "responses.input_tokens", CountAsync));
        return v1;
    }

    private static async Task<GatewayError?> CountAsync(RequestContext context)
    {
        try
        {
            var error = ReadRequestStep.CheckMediaType(context.Http.Request)
                ?? await ReadRequestStep.RunAsync(context, ResponsesRequestReader.Instance).ConfigureAwait(false)
                ?? AuthorizeStep.Run(context)
                ?? await PreviousResponseStep.RunAsync(context).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }

            long tokens = Tokenization.UsageEstimator.CountInput(context.Request!, context.Model!, long.MaxValue);
            var response = context.Http.Response;
            response.StatusCode = 200;
            response.ContentType = "application/json";
            await response.WriteAsync(
                $$"""{"object":"response.input_tokens","input_tokens":{{tokens.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""",
                CancellationToken.None).ConfigureAwait(false);
            return null;
        }
        finally
        {
            context.Request?.Dispose();
        }
    }
}
