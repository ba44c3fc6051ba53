using System.Text;
using Tollgate.Configuration;
using Tollgate.Errors;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.Proxy;

internal sealed partial class ModelProxy
{
    private const string OutputLimitExceeded = "output_limit_exceeded";
    private static readonly byte[] s_done = "[DONE]"u8.ToArray();

    /// <summary>
    /// Relays an SSE stream event by event as it arrives (awaiting each write, so a slow reader slows the relay
    /// rather than filling memory). The usage the gateway asked for is read from the usage-only chunk, which is
    /// dropped unless the caller asked for it too (and then carries the cost). If the caller leaves, the gateway keeps
    /// reading without relaying, for a bounded time, to learn what the provider billed; if the stream ends without
    /// usage, what was received is counted with the model's tokenizer and the record is marked estimated.
    /// </summary>
    private async Task<GatewayError?> RelayStreamAsync(Exchange exchange, ModelRequest request, UpstreamBody upstreamBody, Configuration.UpstreamOptions upstreamOptions, CancellationTokenSource upstreamCts)
    {
        var http = exchange.Http;
        var model = exchange.Model!;
        http.Response.StatusCode = 200;
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        if (exchange.UpstreamRequestId is not null)
        {
            http.Response.Headers[UpstreamRequestIdHeader] = exchange.UpstreamRequestId;
        }

        var generated = new StringBuilder();
        // A stream is cut only when its overrun is certain: by the upstream's own streamed counts when it sends them,
        // otherwise by the raw count (no approximation margin) passing the reservation by the model's cut margin, so
        // a stream that honoured the cap in the model's own count is never cut.
        var counter = Tokenization.TokenCounterRegistry.Shared.Get(model.Encoding, 0);
        long allowedOutput = exchange.Admission?.ReservedOutput ?? long.MaxValue;
        long cutAbove = exchange.Admission is null ? long.MaxValue : model.StreamCutThreshold(allowedOutput);
        long streamedOutput = 0;
        long? upstreamOutput = null;
        int counted = 0;
        TokenUsage? reported = null;
        bool done = false;
        GatewayError? cut = null;
        await TryWriteAsync(exchange, ReadOnlyMemory<byte>.Empty, upstreamCts).ConfigureAwait(false);
        var events = new SseEventReader(upstreamBody);
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
                    cut = upstreamBody.TimedOut && !exchange.ClientAborted && !shutdown.HardStop.IsCancellationRequested
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
                    if (data.AsSpan().SequenceEqual(s_done))
                    {
                        // Held back: a usage chunk may have to be sent before it.
                        done = true;
                        break;
                    }
                    else
                    {
                        var scan = ResponseScanner.Scan(data, generated);
                        if (scan.IsError)
                        {
                            exchange.Reason = ErrorCodes.UpstreamError;
                        }

                        if (scan.HasUsage)
                        {
                            if (scan.UsageIsKnown(outputExpected: true, generated.Length))
                            {
                                reported = scan.Usage;
                                BillReported(exchange, request, scan.Usage);
                                if (scan.Choices > 0)
                                {
                                    // Usage on a content chunk: the upstream streams its running count.
                                    upstreamOutput = scan.Usage.OutputTokens;
                                }
                            }

                            if (scan.Choices <= 0)
                            {
                                // The usage-only chunk: relayed with the cost when the caller asked for usage and the
                                // usage is known; an unreadable one is replaced by Tollgate's own estimate at the end.
                                relay = request.IncludeUsage && reported is not null && scan.UsageEnd >= 0
                                    && scan.UsageIsKnown(outputExpected: true, generated.Length)
                                    ? CostInjector.SseEvent(CostInjector.Inject(data, scan.UsageEnd, scan.UsageEmpty, exchange.CostNanos))
                                    : ReadOnlyMemory<byte>.Empty;
                            }
                        }

                        if (upstreamOutput is null && generated.Length > counted)
                        {
                            streamedOutput = Saturating.Add(streamedOutput, counter.Count(generated.ToString(counted, generated.Length - counted)));
                            counted = generated.Length;
                        }

                        if (upstreamOutput is { } theirs ? theirs > allowedOutput : streamedOutput > cutAbove)
                        {
                            // The upstream ignored the output cap: cut the stream.
                            exchange.Overshoot = true;
                            cut = new GatewayError(502, ErrorTypes.Server, OutputLimitExceeded,
                                $"The upstream produced more than the {allowedOutput} output tokens reserved for this request; the stream was cut.");
                            break;
                        }
                    }
                }

                if (!relay.IsEmpty)
                {
                    await TryWriteAsync(exchange, relay, upstreamCts).ConfigureAwait(false);
                }

                if (done)
                {
                    break;
                }
            }
        }

        exchange.UpstreamEnded();
        if (reported is null)
        {
            if (done || cut?.Code == OutputLimitExceeded)
            {
                // A complete stream without (readable) usage, or one Tollgate cut: counted, at most the reservation.
                BillEstimate(exchange, request, generated.ToString(), flagOverrun: true);
            }
            else
            {
                BillUnknown(exchange, request, upstreamOptions, UnknownOutcome.StreamCutWithoutUsage, generated.ToString());
            }
        }

        if (!done && cut is null && reported is not null)
        {
            // The upstream reported usage (so the answer is complete) but closed without [DONE]: end it properly.
            done = true;
        }

        if (done)
        {
            if (request.IncludeUsage && reported is null)
            {
                // The caller asked for usage and the upstream sent none: send Tollgate's own count, marked estimated.
                await TryWriteAsync(exchange, EstimatedUsageEvent(exchange), upstreamCts).ConfigureAwait(false);
            }

            await TryWriteAsync(exchange, "data: [DONE]\n\n"u8.ToArray(), upstreamCts).ConfigureAwait(false);
        }

        if (cut is not null)
        {
            exchange.Reason = cut.Code;
            await TryWriteAsync(exchange, OpenAIErrorWriter.SseEvent(cut), upstreamCts).ConfigureAwait(false);
        }
        else if (exchange.ClientAborted)
        {
            exchange.Reason = "client_aborted";
        }

        return null;
    }

    private static byte[] EstimatedUsageEvent(Exchange exchange)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", "chatcmpl-" + exchange.RequestId);
            writer.WriteString("object", exchange.Endpoint == "completions" ? "text_completion" : "chat.completion.chunk");
            writer.WriteString("model", exchange.Model!.Name);
            writer.WriteStartArray("choices");
            writer.WriteEndArray();
            writer.WriteStartObject("usage");
            writer.WriteNumber("prompt_tokens", exchange.Usage.InputTokens);
            writer.WriteNumber("completion_tokens", exchange.Usage.OutputTokens);
            writer.WriteNumber("total_tokens", exchange.Usage.TotalTokens);
            writer.WriteNumber(CostInjector.Field, exchange.CostNanos);
            writer.WriteBoolean("estimated", true);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return CostInjector.SseEvent(buffer.WrittenSpan);
    }

    private async Task TryWriteAsync(Exchange exchange, ReadOnlyMemory<byte> bytes, CancellationTokenSource upstreamCts)
    {
        if (exchange.ClientAborted)
        {
            return;
        }

        var http = exchange.Http;
        try
        {
            if (!bytes.IsEmpty)
            {
                await http.Response.Body.WriteAsync(bytes, http.RequestAborted).ConfigureAwait(false);
            }

            await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            exchange.ClientAborted = true;
            TryCancelAfter(upstreamCts, config.Current.Options.Gateway.AbandonedStreamUsageWait);
        }
    }
}
