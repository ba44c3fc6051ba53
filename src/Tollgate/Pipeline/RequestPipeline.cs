using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Hosting;
using Tollgate.Pipeline.Steps;
using Tollgate.Protocol;
using Tollgate.Protocols;
using Tollgate.Proxy;

namespace Tollgate.Pipeline;

/// <summary>
/// A model request's path through the gateway, as a pipeline of small steps, each in its own file:
/// request id → authenticate → read and parse → authorize → protocol fit → queue (a concurrency slot, by fair share)
/// → admit (reserve + durable lease) → cache lookup → forward → relay and meter → settle → audit. The steps run in
/// order of cost, so a caller without a valid key never makes the gateway parse a body. Each step's outcome is a value
/// (a refusal stops the pipeline); the reservation has one owner (<see cref="HeldReservation"/>) that settles or
/// releases it exactly once, the concurrency slot is given back on every path, and every request ends in exactly one
/// audit record, whatever the way it ends.
/// </summary>
internal sealed partial class RequestPipeline(
    GatewayConfigMonitor config,
    AuthenticateStep authenticate,
    QueueStep queue,
    AdmitStep admit,
    CacheLookupStep cacheLookup,
    ForwardStep forward,
    ProtocolFitStep protocolFit,
    ResilientForwardStep resilience,
    StreamRelayStep streamRelay,
    AuditStep audit,
    ShutdownState shutdown,
    TimeProvider timeProvider,
    ILogger<RequestPipeline> logger)
{
    /// <summary>Handles one request to a model endpoint.</summary>
    public async Task HandleAsync(HttpContext http, ProtocolEndpoint endpoint)
    {
        var context = Begin(http, endpoint.AuditName, endpoint.Caller);
        try
        {
            var error = await RunAsync(context, endpoint).ConfigureAwait(false);
            // Settle before answering a refusal: a caller that retries at once finds its concurrency slot free.
            // A background response's reservation is its tracker's to settle, when the response ends.
            if (context.Reservation is { } admitted && context.Background is null)
            {
                await admitted.SettleAsync().ConfigureAwait(false);
            }

            if (error is not null)
            {
                // Nor does a refused request keep its concurrency slot while the refusal is written.
                queue.Leave(context);
                await RefuseAsync(context, error).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            LogUnexpected(logger, context.RequestId, e);
            context.Reason = AuditReasons.InternalError;
            await context.Protocol.WriteErrorAsync(http, new GatewayError(500, ErrorTypes.Server, AuditReasons.InternalError,
                $"The gateway failed to handle the request (request id {context.RequestId}).")).ConfigureAwait(false);
        }
        catch (Exception e) when (IsEventStream(http.Response))
        {
            // A failure after a stream's 200 went out: end it with the protocol's final error event instead of a cut
            // connection, and audit it as the failure it is rather than as "ok".
            LogUnexpected(logger, context.RequestId, e);
            context.Reason = AuditReasons.InternalError;
            await TryWriteFinalErrorAsync(context, new GatewayError(500, ErrorTypes.Server, AuditReasons.InternalError,
                $"The gateway failed to relay the stream (request id {context.RequestId}).")).ConfigureAwait(false);
        }
        finally
        {
            // A cache entry in the making is stored (or its flight ended, waking its followers) whatever happened;
            // the reservation's owner ends it (a no-op once settled or released); then the audit.
            if (context.CacheFill is { } fill)
            {
                await fill.DisposeAsync().ConfigureAwait(false);
            }

            if (context.Reservation is { } held && context.Background is null)
            {
                await held.DisposeAsync().ConfigureAwait(false);
            }

            queue.Leave(context);
            context.Request?.Dispose();
            audit.End(context);
        }
    }

    /// <summary>
    /// Handles a request that needs only an identity (<c>GET /v1/models</c>, <c>GET /v1/models/{id}</c>, an unknown
    /// route): the caller is authenticated first (401 otherwise), then <paramref name="respond"/> writes the answer or
    /// returns the refusal to send instead. Either way the record names the caller.
    /// </summary>
    public async Task HandleAuthenticatedAsync(HttpContext http, string endpointName, Func<RequestContext, Task<GatewayError?>> respond, ICallerProtocol? protocol = null)
    {
        var context = Begin(http, endpointName, protocol ?? ProtocolEndpoint.Default);
        try
        {
            var error = await authenticate.RunAsync(context).ConfigureAwait(false) ?? await respond(context).ConfigureAwait(false);
            if (error is not null)
            {
                await RefuseAsync(context, error).ConfigureAwait(false);
                return;
            }

            context.Decision = Decisions.Allowed;
        }
        finally
        {
            audit.End(context);
        }
    }

    private async ValueTask<GatewayError?> RunAsync(RequestContext context, ProtocolEndpoint endpoint)
    {
        if (shutdown.IsStopping)
        {
            return new GatewayError(503, ErrorTypes.Unavailable, ErrorCodes.ShuttingDown, "The gateway is shutting down; retry on another instance.");
        }

        var error = ReadRequestStep.CheckMediaType(context.Http.Request)
            ?? await authenticate.RunAsync(context).ConfigureAwait(false)
            ?? await ReadRequestStep.RunAsync(context, endpoint.Reader).ConfigureAwait(false)
            ?? AuthorizeStep.Run(context)
            ?? protocolFit.Run(context, endpoint)
            ?? await PreviousResponseStep.RunAsync(context).ConfigureAwait(false)
            ?? await queue.RunAsync(context).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        UpstreamCall? call;
        if (ResilientForwardStep.AppliesTo(context))
        {
            // Admit + forward once per attempt: the model has fallbacks, or its upstream a breaker, retries or a
            // cool-down. The cache looks up after the model's own first admission (a hit ends the request).
            (call, error) = await resilience.RunAsync(context).ConfigureAwait(false);
        }
        else
        {
            error = await admit.RunAsync(context).ConfigureAwait(false);
            call = null;
            if (error is null)
            {
                // The response cache, once admitted (limits apply to hits) and before anything is forwarded.
                if (CacheLookupStep.AppliesTo(context) && await cacheLookup.RunAsync(context).ConfigureAwait(false) is { Done: true } cached)
                {
                    return cached.Refusal;
                }

                (call, error) = await forward.RunAsync(context).ConfigureAwait(false);
            }
        }

        if (call is null)
        {
            return error;
        }

        await using (call.ConfigureAwait(false))
        {
            return context.Request!.Stream && call.IsEventStream
                ? await streamRelay.RunAsync(context, call).ConfigureAwait(false)
                : await BufferedRelayStep.RunAsync(context, call).ConfigureAwait(false);
        }
    }

    // Step 1: the request id, from the caller when sane, echoed on the response; the request counts as in flight.
    private RequestContext Begin(HttpContext http, string endpoint, ICallerProtocol protocol)
    {
        string requestId = RequestIds.FromCaller(http.Request.Headers[RequestIds.Header]);
        http.Response.Headers[RequestIds.Header] = requestId;
        audit.Begin();
        return new RequestContext(http, endpoint, protocol, config.Current, requestId, timeProvider.GetUtcNow());
    }

    private static Task RefuseAsync(RequestContext context, GatewayError error)
    {
        context.Reason = error.Code;
        return context.Http.Response.HasStarted ? Task.CompletedTask : context.Protocol.WriteErrorAsync(context.Http, error);
    }

    private static bool IsEventStream(HttpResponse response) =>
        response.HasStarted && response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;

    private static async Task TryWriteFinalErrorAsync(RequestContext context, GatewayError error)
    {
        var http = context.Http;
        try
        {
            await http.Response.Body.WriteAsync(context.Protocol.ErrorEvent(error), http.RequestAborted).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The caller is gone; the audit record still says what happened.
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Request {RequestId} failed unexpectedly")]
    private static partial void LogUnexpected(ILogger logger, string requestId, Exception exception);
}
