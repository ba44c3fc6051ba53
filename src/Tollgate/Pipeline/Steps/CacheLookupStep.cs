using System.Buffers;
using Tollgate.Audit;
using Tollgate.Caching;
using Tollgate.Protocol;
using Tollgate.Proxy;
using Tollgate.Upstreams;

namespace Tollgate.Pipeline.Steps;

/// <summary>
/// The response cache, between admission and forwarding — so authentication, model authorization and every limit
/// apply to a hit as to any request. It applies when the caller's plan and the model both opt in, the caller did not
/// send <c>Cache-Control: no-store</c>, the upstream's protocol caches answers to the endpoint
/// (<see cref="IUpstreamProtocol.CachesAnswers"/>), and the request keeps no provider-side state
/// (<see cref="ResponseCacheEligibility"/>); when the plan or the model does not opt in, it costs two field reads. The key is computed on the body as
/// the forward step will send it (<see cref="ResponseCacheKeys"/>). Identical concurrent requests make one upstream
/// call: the first leads, the others wait for its answer (<see cref="ResponseFlights"/>); a leader that fails sends
/// them upstream themselves. A hit is answered here (<see cref="ServeAsync"/>); a miss goes on with a
/// <see cref="CacheFill"/> that stores its answer if it may be stored. With upstream resilience, the lookup comes after
/// the model's own first admission (<see cref="ResilientForwardStep"/>); a fallback's attempts never look up.
/// </summary>
internal sealed partial class CacheLookupStep(IResponseCache cache, ResponseFlights flights, UpstreamClients upstreams, TimeProvider time,
    ILogger<CacheLookupStep> logger)
{
    /// <summary>The response header that tells the caller whether the answer came from the cache.</summary>
    public const string Header = "x-tollgate-cache";

    /// <summary>Whether the caller's plan and the model both cache answers: all a request pays when the cache is off.</summary>
    public static bool AppliesTo(RequestContext context) =>
        context.Model!.CacheResponses && context.Reservation!.Admission.Plan.CacheResponses;

    /// <summary>
    /// Looks the request up and answers a hit (stored, or the answer of the identical request it waited for): then the
    /// request is <see cref="CacheLookup.Done"/>. Otherwise it goes on upstream — with <see cref="RequestContext.CacheFill"/>
    /// set when its answer may be stored — unless the caller left while waiting (done, with the refusal). Runs once per
    /// request: a retry of an attempt that missed goes on with the fill it has.
    /// </summary>
    public async ValueTask<CacheLookup> RunAsync(RequestContext context)
    {
        var request = context.Request!;
        var options = context.Config.Options.Upstreams[context.Model!.UpstreamName];
        if (context.CacheFill is not null || upstreams.ProtocolFor(options, request.Endpoint) is not { } protocol || !protocol.CachesAnswers(request.Endpoint))
        {
            return default;
        }

        var (hit, refusal) = await LookupAsync(context, protocol).ConfigureAwait(false);
        if (hit is not null)
        {
            return new CacheLookup(true, await ServeAsync(context, hit, protocol).ConfigureAwait(false));
        }

        return new CacheLookup(refusal is not null, refusal);
    }

    private async ValueTask<(CachedAnswer? Hit, GatewayError? Error)> LookupAsync(RequestContext context, IUpstreamProtocol protocol)
    {
        var directives = CacheControlDirectives.Read(context.Http.Request.Headers.CacheControl);
        var request = context.Request!;
        if (directives.NoStore || ResponseCacheEligibility.Exclusion(request) is not null)
        {
            return default;
        }

        var model = context.Model!;
        var held = context.Reservation!;
        var caller = context.Caller!;
        var forwarded = new ArrayBufferWriter<byte>(request.Size + 64);
        protocol.WriteRequest(request, UpstreamRewrite.For(model, held.Admission), forwarded);
        var scope = ResponseCacheNamespace.For(held.Admission.Plan.CacheNamespace, caller.Tenant, caller.User);
        if (!ResponseCacheKeys.TryCompute(scope, request.Endpoint, model.Name, model.UpstreamName, forwarded.WrittenMemory, out var key))
        {
            return default;
        }

        context.Http.Response.Headers[Header] = "miss";
        if (directives.NoCache)
        {
            // A fresh answer, asked for: no lookup and no waiting on another request's, but it may be stored.
            context.CacheFill = Fill(context, key, null, protocol);
            return default;
        }

        if (!flights.TryLead(key, out var flight))
        {
            return await FollowAsync(context, flight, protocol).ConfigureAwait(false);
        }

        // From here the flight is this request's to end, on every path: the fill ends it when the request ends.
        var fill = Fill(context, key, flight, protocol);
        context.CacheFill = fill;
        if (await GetAsync(context, key).ConfigureAwait(false) is { } stored)
        {
            fill.Found(stored);
            return (stored, null);
        }

        return default;
    }

    private async ValueTask<(CachedAnswer? Hit, GatewayError? Error)> FollowAsync(RequestContext context, ResponseFlight flight, IUpstreamProtocol protocol)
    {
        CachedAnswer? answer;
        try
        {
            answer = await flights.FollowAsync(flight, context.Http.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.Http.RequestAborted.IsCancellationRequested)
        {
            // Admitted, never answered, nothing billed: it counts one request like any admitted request.
            context.ClientAborted = true;
            return (null, new GatewayError(499, ErrorTypes.InvalidRequest, AuditReasons.ClientAborted, "The caller closed the connection."));
        }

        if (answer is not null)
        {
            return (answer, null);
        }

        // The leader failed (an error, a cut stream, an answer that may not be stored): go upstream as a miss.
        context.CacheFill = Fill(context, flight.Key, null, protocol);
        return default;
    }

    private async ValueTask<CachedAnswer?> GetAsync(RequestContext context, ResponseCacheKey key)
    {
        try
        {
            return await cache.GetAsync(key, time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A store that cannot answer is a miss: the cache only ever saves work.
            LogLookupFailed(logger, context.RequestId, e);
            return null;
        }
    }

    private CacheFill Fill(RequestContext context, ResponseCacheKey key, ResponseFlight? flight, IUpstreamProtocol protocol) =>
        new(context, key, flight, protocol, cache, flights, time, logger);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Request {RequestId}: the response cache could not be read; going upstream")]
    private static partial void LogLookupFailed(ILogger logger, string requestId, Exception exception);
}

/// <summary>What the cache step decided: <see cref="Done"/> when the request ended there (a hit was answered, or the caller left while waiting: <see cref="Refusal"/>).</summary>
/// <param name="Done">Whether the request ended at the cache.</param>
/// <param name="Refusal">The refusal to send, when it ended without an answer.</param>
internal readonly record struct CacheLookup(bool Done, GatewayError? Refusal);
