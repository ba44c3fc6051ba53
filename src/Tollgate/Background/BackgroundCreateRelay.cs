using Tollgate.Pipeline;
using Tollgate.Pipeline.Steps;
using Tollgate.Protocol;

namespace Tollgate.Background;

/// <summary>
/// Step 7 for a background response's create call that the upstream accepted (<c>queued</c> or <c>in_progress</c>):
/// the reservation passes to its tracker unbilled — still held, the key's concurrency slot included — the response's
/// owner is recorded, and the upstream's answer is relayed as it is (no cost yet: it is billed when it ends).
/// </summary>
internal static class BackgroundCreateRelay
{
    public static async ValueTask<GatewayError?> RunAsync(RequestContext context, ReadOnlyMemory<byte> body, string responseId)
    {
        var tracker = context.Http.RequestServices.GetRequiredService<BackgroundResponses>();
        await tracker.TrackAsync(context, responseId).ConfigureAwait(false);
        // Owned before the caller can ask for it: its first poll finds it.
        await ResponseOwnership.RecordAsync(context, responseId).ConfigureAwait(false);
        if (context.ClientAborted)
        {
            context.Reason = Audit.AuditReasons.ClientAborted;
            return null;
        }

        var response = context.Http.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        if (context.UpstreamRequestId is not null)
        {
            response.Headers[BufferedRelayStep.UpstreamRequestIdHeader] = context.UpstreamRequestId;
        }

        try
        {
            await response.Body.WriteAsync(body, context.Http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            context.ClientAborted = true;
            context.Reason = Audit.AuditReasons.ClientAborted;
        }

        return null;
    }
}
