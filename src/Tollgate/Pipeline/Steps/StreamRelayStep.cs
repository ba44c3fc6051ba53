using System.Text;
using Tollgate.Audit;
using Tollgate.Configuration;
using Tollgate.Hosting;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Protocol.Translation;
using Tollgate.Protocols;
using Tollgate.Proxy;
using Tollgate.Tokenization;

namespace Tollgate.Pipeline.Steps;

/// <summary>
/// Step 7, for a stream: relay it event by event as it arrives (awaiting each write, so a slow reader slows the relay
/// rather than filling memory) and meter it. The upstream's usage event is read by the upstream side of the
/// protocol and relayed by the caller side (with the cost) only when the caller asked for usage. If the caller
/// leaves, the gateway keeps reading without relaying, for a bounded time, to learn what the provider billed; if the
/// stream ends without usage, what was received is counted with the model's tokenizer and billed as an estimate.
/// </summary>
/// <remarks>
/// Once the 200 went out, the caller waits on the stream: <see cref="StreamOutput"/> sends the caller protocol's
/// keep-alive while the upstream is silent (a long time to first token), and a failure after that point ends the
/// stream with the protocol's error event instead of a cut connection.
/// </remarks>
internal sealed class StreamRelayStep(ShutdownState shutdown, TimeProvider time)
{
    public async ValueTask<GatewayError?> RunAsync(RequestContext context, UpstreamCall call)
    {
        var http = context.Http;
        var model = context.Model!;
        var request = context.Request!;
        var held = context.Reservation!;
        var caller = context.Protocol;
        http.Response.StatusCode = 200;
        http.Response.ContentType = caller.StreamContentType;
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        if (context.UpstreamRequestId is not null)
        {
            http.Response.Headers[BufferedRelayStep.UpstreamRequestIdHeader] = context.UpstreamRequestId;
        }

        var generated = new StringBuilder();
        // A stream is cut only when its overrun is certain: by the upstream's own streamed counts when it sends them,
        // otherwise by the raw count (no approximation margin) passing the reservation by the model's cut margin, so
        // a stream that honoured the cap in the model's own count is never cut.
        long allowedOutput = held.Admission.ReservedOutput;
        var streamed = new StreamedTextCount(TokenCounterRegistry.Shared.Get(model.Encoding, 0), model.StreamCutThreshold(allowedOutput));
        long? upstreamOutput = null;
        TokenUsage? reported = null;
        // A final event that carried no readable usage, held back to go out with Tollgate's own count.
        byte[]? heldFinal = null;
        string? heldFinalId = null;
        bool done = false;
        GatewayError? cut = null;
        var output = new StreamOutput(context, call, time, context.Config.Options.Gateway.StreamKeepAliveInterval);
        await using var keepAlive = output.ConfigureAwait(false);
        await output.WriteAsync(ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
        var upstreamStream = call.Protocol.OpenStream();
        // An upstream that speaks another protocol: each event is relayed as what it becomes in the caller's.
        var translator = call.Protocol is ITranslatingProtocol translating ? translating.OpenTranslator(request) : null;
        var translated = translator is null ? null : new System.Buffers.ArrayBufferWriter<byte>(1024);
        var events = new SseEventReader(call.Body);
        await using (events.ConfigureAwait(false))
        {
            while (true)
            {
                SseEvent? next;
                try
                {
                    next = await events.ReadAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or HttpRequestException)
                {
                    bool ours = !context.ClientAborted && !shutdown.HardStop.IsCancellationRequested;
                    // The body's cancellation also follows the call's deadline, so the total timeout is looked at first.
                    cut = call.PastTotalTimeout && ours
                        ? new GatewayError(504, ErrorTypes.Server, ErrorCodes.UpstreamTimeout,
                            $"The upstream for '{model.Name}' did not finish within its total timeout of {call.Options.TotalTimeout!.Value.TotalSeconds:0.#} s; the stream was cut.")
                        : call.Body.TimedOut && ours
                        ? new GatewayError(504, ErrorTypes.Server, ErrorCodes.UpstreamTimeout, $"The upstream for '{model.Name}' stalled mid-stream.")
                        : new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError, $"The stream from the upstream for '{model.Name}' was cut.");
                    break;
                }

                if (next is not { } sse)
                {
                    if (!done && reported is null)
                    {
                        cut = new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError, $"The stream from the upstream for '{model.Name}' ended early.");
                    }

                    break;
                }

                ReadOnlyMemory<byte> relay = sse.Raw;
                if (sse.Data is { } data)
                {
                    if (upstreamStream.IsEndOfStream(data.Span))
                    {
                        // Held back: a usage event may have to be sent before it.
                        done = true;
                        break;
                    }

                    var scan = upstreamStream.ReadEvent(data.Span, generated);
                    held.SeeToolCalls(scan);
                    context.CacheFill?.Event(data.Span);
                    if (scan.IsError)
                    {
                        context.Reason = ErrorCodes.UpstreamError;
                        if (translator is not null)
                        {
                            // The upstream's error event has no translation: the caller gets its protocol's own.
                            cut = new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError, $"The upstream for '{model.Name}' failed mid-stream.");
                            break;
                        }
                    }

                    if (scan.IsFinal && translator is null && reported is null && !(scan.HasUsage && scan.UsageIsKnown(outputExpected: true, generated.Length)))
                    {
                        // The answer's last event, without usage that can be billed: nothing of the answer follows it,
                        // so the stream is complete; the event goes out after the bill, with the estimate as its usage.
                        heldFinal = data.ToArray();
                        heldFinalId = scan.ResponseId;
                        done = true;
                        break;
                    }

                    if (scan.HasUsage)
                    {
                        bool known = scan.UsageIsKnown(outputExpected: true, generated.Length);
                        if (known)
                        {
                            reported = scan.Usage;
                            held.BillReported(scan.Usage);
                            if (scan.ResponseId is { } responseId)
                            {
                                // A stored response is owned by the key that created it: recorded before its final
                                // event reaches the caller, who may ask for it at once.
                                await ResponseOwnership.RecordAsync(context, responseId).ConfigureAwait(false);
                            }
                            if (scan.Choices > 0)
                            {
                                // Usage on a content event: the upstream streams its running count.
                                upstreamOutput = scan.Usage.OutputTokens;
                            }
                        }

                        if (scan.Choices <= 0)
                        {
                            // The usage-only event: relayed with the cost when the caller asked for usage and the usage
                            // is known; an unreadable one is replaced by Tollgate's own estimate at the end.
                            relay = known && reported is not null ? caller.UsageEvent(request, data.Span, scan, held.CostNanos) : ReadOnlyMemory<byte>.Empty;
                        }
                    }

                    if (translator is not null)
                    {
                        translated!.ResetWrittenCount();
                        translator.Translate(data.Span, scan, translated);
                        relay = translated.WrittenMemory;
                    }

                    // Until the upstream streams its own running count, Tollgate keeps one, tokenizing only once the
                    // text could pass the cut (most streams end before it ever could).
                    bool pastCut = upstreamOutput is null && streamed.Advance(generated);

                    if (upstreamOutput is { } theirs ? theirs > allowedOutput : pastCut)
                    {
                        // The upstream ignored the output cap: cut the stream.
                        held.Overshoot = true;
                        cut = new GatewayError(502, ErrorTypes.Server, AuditReasons.OutputLimitExceeded,
                            $"The upstream produced more than the {allowedOutput} output tokens reserved for this request; the stream was cut.");
                        break;
                    }
                }

                if (!relay.IsEmpty)
                {
                    // Events that arrived together leave together: flushed when the next one is not here yet.
                    await output.WriteAsync(relay, flush: !events.HasBufferedEvent).ConfigureAwait(false);
                }
            }
        }

        // Whatever way the loop ended, nothing relayed stays unsent.
        await output.WriteAsync(ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);

        context.UpstreamEnded();
        if (done && cut is null && reported is { } usage)
        {
            // Complete, with the upstream's usage: the response cache may keep it.
            context.CacheFill?.StreamEnded(usage);
        }

        if (reported is null)
        {
            if (done || cut?.Code == AuditReasons.OutputLimitExceeded)
            {
                // A complete stream without (readable) usage, or one Tollgate cut: counted, at most the reservation.
                held.BillEstimate(generated.ToString(), flagOverrun: true);
            }
            else
            {
                held.BillUnknown(call.Options, UnknownOutcome.StreamCutWithoutUsage, generated.ToString());
            }
        }

        if (heldFinalId is not null)
        {
            // A stored response is owned by the key that created it, and its tokens carry into a continuation: recorded
            // with the bill, before its final event reaches the caller.
            await ResponseOwnership.RecordAsync(context, heldFinalId).ConfigureAwait(false);
        }

        // The bill is final: settle before the stream's last events go out (see BufferedRelayStep).
        await held.SettleAsync().ConfigureAwait(false);
        if (!done && cut is null && reported is not null)
        {
            // The upstream reported usage (so the answer is complete) but closed without its end event: end it properly.
            done = true;
        }

        if (done && translator is not null)
        {
            // The caller protocol's closing events carry the bill (the upstream's usage, or Tollgate's own count).
            translated!.ResetWrittenCount();
            translator.Finish(new TranslatedUsage(held.Usage, held.CostNanos, Estimated: reported is null), translated);
            await output.WriteAsync(translated.WrittenMemory).ConfigureAwait(false);
            await output.WriteAsync(caller.EndOfStream).ConfigureAwait(false);
        }
        else if (done)
        {
            if ((request.IncludeUsage || heldFinal is not null) && reported is null)
            {
                // The caller asked for usage (or its protocol carries it on the final event) and the upstream sent
                // none: send Tollgate's own count, marked estimated.
                await output.WriteAsync(caller.EstimatedUsageEvent(
                    new EstimatedUsage(context.RequestId, request.Endpoint, model.Name, held.Usage, held.CostNanos, heldFinal))).ConfigureAwait(false);
            }

            await output.WriteAsync(caller.EndOfStream).ConfigureAwait(false);
        }

        if (cut is not null)
        {
            context.Reason = cut.Code;
            await output.WriteAsync(caller.ErrorEvent(cut)).ConfigureAwait(false);
        }
        else if (context.ClientAborted)
        {
            context.Reason = AuditReasons.ClientAborted;
        }

        return null;
    }
}
