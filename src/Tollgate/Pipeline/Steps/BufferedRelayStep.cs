using System.Text;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Protocol.Translation;

namespace Tollgate.Pipeline.Steps;

/// <summary>
/// Step 7, for a whole response: read it (bounded), read its usage with the upstream side of the protocol, bill it,
/// add the cost in the caller's protocol, and relay it.
/// </summary>
internal static class BufferedRelayStep
{
    public const string CostHeader = "x-tollgate-cost-usd";
    public const string UpstreamRequestIdHeader = "x-upstream-request-id";

    public static async ValueTask<GatewayError?> RunAsync(RequestContext context, UpstreamCall call)
    {
        var model = context.Model!;
        var request = context.Request!;
        var held = context.Reservation!;
        var (body, complete) = await call.Body.ReadAllAsync(context.Config.Options.Gateway.MaxResponseBodyBytes, call.ContentLength).ConfigureAwait(false);
        context.UpstreamEnded();
        // The generated text is read, counted when it must be, and dropped before the next await (TextBuilderCache).
        var generated = TextBuilderCache.Take();
        var scan = call.Protocol.ReadResponse(body, generated);
        held.SeeToolCalls(scan);
        ReadOnlyMemory<byte> answer = body;
        if (!complete || !scan.Valid)
        {
            // Whatever arrived may have been generated and billed: by default it is counted rather than billed at
            // nothing. Counting a broken body errs high (its JSON envelope is counted too), capped at the reservation.
            string text = generated.Length > 0 ? generated.ToString() : Encoding.UTF8.GetString(body);
            TextBuilderCache.Return(generated);
            held.BillUnknown(call.Options, UnknownOutcome.InvalidBody, text);
            if (!complete && call.PastTotalTimeout && !context.ClientAborted)
            {
                return new GatewayError(504, ErrorTypes.Server, ErrorCodes.UpstreamTimeout,
                    $"The upstream for '{model.Name}' did not finish within its total timeout of {call.Options.TotalTimeout!.Value.TotalSeconds:0.#} s.");
            }

            return new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError, complete
                ? $"The upstream for '{model.Name}' returned a response that is not valid JSON."
                : $"The upstream for '{model.Name}' closed the connection before the response was complete.");
        }

        bool known = scan.UsageIsKnown(request.Endpoint != ApiEndpoint.Embeddings, generated.Length);
        string? backgroundId = request.Background && scan.ResponseId is { } id && Background.BackgroundStatus.IsRunning(Background.BackgroundStatus.Read(body)) ? id : null;
        string? estimateFrom = known || backgroundId is not null ? null : generated.ToString();
        TextBuilderCache.Return(generated);
        if (backgroundId is not null)
        {
            // Accepted to run in the background: billed when it ends, by its tracker; the answer is relayed as it is.
            return await Background.BackgroundCreateRelay.RunAsync(context, body, backgroundId).ConfigureAwait(false);
        }

        if (known)
        {
            held.BillReported(scan.Usage);
            answer = call.Protocol is ITranslatingProtocol ? answer : context.Protocol.WithCost(body, scan, held.CostNanos);
            context.CacheFill?.Body(body, scan.Usage);
        }
        else
        {
            // No usage, or usage that cannot be true (missing or malformed counts, zero output for text that
            // arrived): unknown, so counted from the text and flagged estimated, never billed as zero.
            held.BillEstimate(estimateFrom!, flagOverrun: true);
        }

        if (call.Protocol is ITranslatingProtocol translating)
        {
            // The upstream spoke another protocol: the answer goes out in the caller's, with the bill as its usage.
            answer = translating.TranslateResponse(body, request, new TranslatedUsage(held.Usage, held.CostNanos, Estimated: !known));
        }

        // The bill is final: settle before the answer goes out, so a caller that sends its next request the moment
        // this one arrives finds its concurrency slot (and its budget) already up to date.
        await held.SettleAsync().ConfigureAwait(false);
        if (scan.ResponseId is { } responseId)
        {
            // A stored response is owned by the key that created it: recorded before the caller can ask for it.
            await ResponseOwnership.RecordAsync(context, responseId).ConfigureAwait(false);
        }

        if (context.ClientAborted)
        {
            context.Reason = AuditReasons.ClientAborted;
            return null;
        }

        var response = context.Http.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.ContentLength = answer.Length;
        response.Headers[CostHeader] = Money.FormatDollars(held.CostNanos);
        if (context.UpstreamRequestId is not null)
        {
            response.Headers[UpstreamRequestIdHeader] = context.UpstreamRequestId;
        }

        try
        {
            await response.Body.WriteAsync(answer, context.Http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            context.ClientAborted = true;
            context.Reason = AuditReasons.ClientAborted;
        }

        return null;
    }
}
