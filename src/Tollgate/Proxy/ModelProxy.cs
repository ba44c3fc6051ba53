using Microsoft.Net.Http.Headers;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Errors;
using Tollgate.Hosting;
using Tollgate.Identity;
using Tollgate.Metrics;
using Tollgate.Protocol;
using Tollgate.Upstreams;

namespace Tollgate.Proxy;

/// <summary>
/// A model request's path through the gateway: authenticate, read and check the body, authorize the model,
/// forward, meter, and record exactly one audit record whatever happens. Admission steps run in order of cost, so
/// an unauthenticated caller never makes the gateway parse a body.
/// </summary>
internal sealed partial class ModelProxy(
    GatewayConfigMonitor config,
    ApiKeyAuthenticator authenticator,
    LedgerWriter ledger,
    UpstreamClients upstreams,
    GatewayMetrics metrics,
    InFlightRequests inFlight,
    ShutdownState shutdown,
    AdmissionService admissions,
    ILedgerStore ledgerStore,
    TimeProvider timeProvider,
    ILogger<ModelProxy> logger)
{
    /// <summary>Handles one request to a model endpoint.</summary>
    public async Task HandleAsync(HttpContext http, ApiEndpoint endpoint)
    {
        var exchange = Begin(http, endpoint.AuditName());
        try
        {
            var error = await AdmitAndForwardAsync(exchange, endpoint).ConfigureAwait(false);
            if (error is not null)
            {
                await RefuseAsync(exchange, error).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            LogUnexpected(logger, exchange.RequestId, e);
            exchange.Reason = "internal_error";
            await OpenAIErrorWriter.WriteAsync(http, new GatewayError(500, ErrorTypes.Server, "internal_error",
                $"The gateway failed to handle the request (request id {exchange.RequestId}).")).ConfigureAwait(false);
        }
        catch (Exception e) when (IsEventStream(http.Response))
        {
            // A failure after a stream's 200 went out: end it with the documented final error event instead of a cut
            // connection, and audit it as the failure it is rather than as "ok".
            LogUnexpected(logger, exchange.RequestId, e);
            exchange.Reason = "internal_error";
            await TryWriteFinalErrorAsync(http, new GatewayError(500, ErrorTypes.Server, "internal_error",
                $"The gateway failed to relay the stream (request id {exchange.RequestId}).")).ConfigureAwait(false);
        }
        finally
        {
            End(exchange);
        }
    }

    /// <summary>
    /// Handles a request that needs only an identity (<c>GET /v1/models</c>, <c>GET /v1/models/{id}</c>, an unknown
    /// route): the caller is authenticated first (401 otherwise), then <paramref name="respond"/> writes the answer or
    /// returns the refusal to send instead. Either way the record names the caller.
    /// </summary>
    public async Task HandleAuthenticatedAsync(HttpContext http, string endpointName, Func<Exchange, Task<GatewayError?>> respond)
    {
        var exchange = Begin(http, endpointName);
        try
        {
            var error = await AuthenticateAsync(exchange).ConfigureAwait(false) ?? await respond(exchange).ConfigureAwait(false);
            if (error is not null)
            {
                await RefuseAsync(exchange, error).ConfigureAwait(false);
                return;
            }

            exchange.Decision = Decisions.Allowed;
        }
        finally
        {
            End(exchange);
        }
    }

    private Exchange Begin(HttpContext http, string endpoint)
    {
        string requestId = RequestIds.FromCaller(http.Request.Headers[RequestIds.Header]);
        http.Response.Headers[RequestIds.Header] = requestId;
        inFlight.Enter();
        metrics.RequestStarted();
        return new Exchange(http, endpoint, requestId, timeProvider.GetUtcNow());
    }

    private void End(Exchange exchange)
    {
        var record = exchange.ToRecord();
        ledger.Enqueue(record);
        metrics.RequestEnded(record);
        inFlight.Exit();
    }

    private static Task RefuseAsync(Exchange exchange, GatewayError error)
    {
        exchange.Reason = error.Code;
        return exchange.Http.Response.HasStarted ? Task.CompletedTask : OpenAIErrorWriter.WriteAsync(exchange.Http, error);
    }

    private async Task<GatewayError?> AdmitAndForwardAsync(Exchange exchange, ApiEndpoint endpoint)
    {
        var http = exchange.Http;
        var current = config.Current;
        if (shutdown.IsStopping)
        {
            return new GatewayError(503, ErrorTypes.Unavailable, ErrorCodes.ShuttingDown, "The gateway is shutting down; retry on another instance.");
        }

        if (CheckMediaType(http.Request) is { } mediaError)
        {
            return mediaError;
        }

        if (await AuthenticateAsync(exchange).ConfigureAwait(false) is { } authError)
        {
            return authError;
        }

        var (outcome, body) = await RequestBodyReader.ReadAsync(http.Request, current.Options.Gateway.MaxRequestBodyBytes, http.RequestAborted).ConfigureAwait(false);
        if (outcome == RequestBodyReader.Outcome.TooLarge)
        {
            return new GatewayError(413, ErrorTypes.InvalidRequest, ErrorCodes.RequestTooLarge,
                $"The request body is larger than the limit of {current.Options.Gateway.MaxRequestBodyBytes} bytes.");
        }

        if (outcome == RequestBodyReader.Outcome.Aborted)
        {
            exchange.ClientAborted = true;
            return GatewayError.InvalidRequest("The request body could not be read.", code: "client_aborted");
        }

        if (!ModelRequestParser.TryParse(body, endpoint, out var request, out var parseError))
        {
            return parseError;
        }

        using (request)
        {
            exchange.RequestedModel = request!.Model;
            exchange.Stream = request.Stream;
            if (Authorize(exchange, request, current) is { } policyError)
            {
                return policyError;
            }

            if (!ledger.CanAccept)
            {
                return new GatewayError(503, ErrorTypes.Unavailable, ErrorCodes.LedgerUnavailable,
                    "The gateway cannot record usage right now, so it is not accepting requests. Retry shortly.");
            }

            var (admission, admissionError) = await admissions.TryAdmitAsync(exchange, request, current, http.RequestAborted).ConfigureAwait(false);
            if (admissionError is not null)
            {
                return admissionError;
            }

            exchange.Admission = admission;
            try
            {
                if (await WriteLeaseAsync(exchange, admission!).ConfigureAwait(false) is { } leaseError)
                {
                    // Refused after all: it consumes nothing, not even a request.
                    await admissions.ReleaseAsync(admission!).ConfigureAwait(false);
                    exchange.Admission = null;
                    return leaseError;
                }

                RateLimitHeaders.Write(http.Response.Headers, admission!);
                exchange.Decision = Decisions.Allowed;
                return await ForwardAsync(exchange, request, current).ConfigureAwait(false);
            }
            finally
            {
                await admissions.SettleAsync(admission!, exchange).ConfigureAwait(false);
            }
        }
    }

    // The lease is durable before the upstream is called: if the gateway dies mid-request, the next start bills the
    // request at its reserved worst case instead of forgetting spend that may have happened.
    private async Task<GatewayError?> WriteLeaseAsync(Exchange exchange, Admission admission)
    {
        var caller = exchange.Caller!;
        var model = exchange.Model!;
        var lease = new ReservationLease
        {
            Id = admission.Reservation.Id,
            Timestamp = exchange.Timestamp,
            RequestId = exchange.RequestId,
            Endpoint = exchange.Endpoint,
            KeyId = caller.KeyId,
            Tenant = caller.Tenant,
            User = caller.User,
            Model = model.Name,
            Upstream = model.UpstreamName,
            Task = exchange.Task,
            SourceAddress = exchange.SourceAddress,
            Usage = new Pricing.TokenUsage(admission.InputTokens, 0, admission.ReservedOutput, 0),
            CostNanos = admission.WorstCostNanos,
        };
        try
        {
            await ledgerStore.AddLeaseAsync(lease, CancellationToken.None).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogLeaseFailed(logger, exchange.RequestId, e);
            ledger.ReportWriteFailure(e);
            return new GatewayError(503, ErrorTypes.Unavailable, ErrorCodes.LedgerUnavailable,
                "The gateway cannot record usage right now, so it is not accepting requests. Retry shortly.") { RetryAfter = TimeSpan.FromSeconds(1) };
        }
    }

    private async Task<GatewayError?> AuthenticateAsync(Exchange exchange)
    {
        var headers = exchange.Http.Request.Headers;
        var result = await authenticator.AuthenticateAsync(headers.Authorization, headers["x-api-key"], exchange.Http.RequestAborted).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            exchange.KeyId = result.KeyId;
            return new GatewayError(401, ErrorTypes.Authentication, ErrorCodes.InvalidApiKey, result.FailureMessage!);
        }

        exchange.Caller = result.Identity;
        return null;
    }

    private static GatewayError? Authorize(Exchange exchange, ModelRequest request, GatewayConfig current)
    {
        if (!current.TryGetModel(request.Model, out var model))
        {
            return new GatewayError(404, ErrorTypes.InvalidRequest, ErrorCodes.ModelNotFound,
                $"The model '{Bounded(request.Model)}' does not exist.", "model");
        }

        exchange.Model = model;
        bool embedding = model.Type == ModelTypes.Embedding;
        if (embedding != (request.Endpoint == ApiEndpoint.Embeddings))
        {
            return GatewayError.InvalidRequest(embedding
                ? $"The model '{model.Name}' is an embedding model; use /v1/embeddings."
                : $"The model '{model.Name}' does not produce embeddings.", "model");
        }

        if (!current.IsAllowed(exchange.Caller!.Plan, model))
        {
            return new GatewayError(403, ErrorTypes.Permission, ErrorCodes.ModelNotAllowed,
                $"Your plan '{exchange.Caller.Plan}' does not include the model '{model.Name}'.", "model");
        }

        return null;
    }

    private static GatewayError? CheckMediaType(HttpRequest request)
    {
        string? encoding = request.Headers.ContentEncoding;
        if (!string.IsNullOrEmpty(encoding) && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return new GatewayError(415, ErrorTypes.InvalidRequest, ErrorCodes.UnsupportedMediaType,
                $"Compressed request bodies are not supported (Content-Encoding: {Bounded(encoding)}).");
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.Charset.HasValue && !mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            return new GatewayError(415, ErrorTypes.InvalidRequest, ErrorCodes.UnsupportedMediaType,
                "The request body must be JSON: send 'Content-Type: application/json'.");
        }

        return null;
    }

    private static bool IsEventStream(HttpResponse response) =>
        response.HasStarted && response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;

    private static async Task TryWriteFinalErrorAsync(HttpContext http, GatewayError error)
    {
        try
        {
            await http.Response.Body.WriteAsync(OpenAIErrorWriter.SseEvent(error), http.RequestAborted).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The caller is gone; the audit record still says what happened.
        }
    }

    private static string Bounded(string value) => value.Length > 64 ? value[..64] + "…" : value;

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Request {RequestId}: the reservation lease could not be written")]
    private static partial void LogLeaseFailed(ILogger logger, string requestId, Exception exception);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Request {RequestId} failed unexpectedly")]
    private static partial void LogUnexpected(ILogger logger, string requestId, Exception exception);
}
