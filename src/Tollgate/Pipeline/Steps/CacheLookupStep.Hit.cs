using Tollgate.Audit;
using Tollgate.Caching;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.Pipeline.Steps;

/// <summary>Serving a hit.</summary>
internal sealed partial class CacheLookupStep
{
    /// <summary>
    /// Answers from <paramref name="answer"/>: billed no tokens and the plan's <c>CacheHitPricePercent</c> of the
    /// answer's price (settled at once), its <c>usage</c> showing the stored token counts with the hit's cost, relayed
    /// whole to a plain caller or replayed as the caller's stream, and audited <c>cache_hit</c>.
    /// </summary>
    private static async ValueTask<GatewayError?> ServeAsync(RequestContext context, CachedAnswer answer, IUpstreamProtocol protocol)
    {
        var held = context.Reservation!;
        var request = context.Request!;
        var caller = context.Protocol;
        long cost = context.Model!.Price.CostNanos(answer.Usage, held.Admission.Plan.CacheHitPricePercent);
        held.BillCacheHit(answer.Usage, cost);
        await held.SettleAsync().ConfigureAwait(false);
        context.Reason = AuditReasons.CacheHit;

        var response = context.Http.Response;
        response.StatusCode = 200;
        response.Headers[Header] = "hit";
        response.Headers[BufferedRelayStep.CostHeader] = Money.FormatDollars(cost);
        ReadOnlyMemory<byte> body;
        if (request.Stream)
        {
            response.ContentType = caller.StreamContentType;
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            var events = caller.CachedStream(request, answer.Body.Span, cost);
            var end = caller.EndOfStream;
            var whole = new byte[events.Length + end.Length];
            events.CopyTo(whole);
            end.CopyTo(whole.AsMemory(events.Length));
            body = whole;
        }
        else
        {
            body = caller.WithCost(answer.Body.Span, protocol.ReadResponse(answer.Body.Span, null), cost);
            response.ContentType = "application/json";
            response.ContentLength = body.Length;
        }

        try
        {
            await response.Body.WriteAsync(body, context.Http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            context.ClientAborted = true;
            context.Reason = AuditReasons.ClientAborted;
        }

        return null;
    }
}
