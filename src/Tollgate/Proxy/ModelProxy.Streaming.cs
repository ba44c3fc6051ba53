using System.Text;
using Tollgate.Errors;
using Tollgate.Pricing;
using Tollgate.Protocol;

namespace Tollgate.Proxy;

internal sealed partial class ModelProxy
{
    private static readonly byte[] s_done = "[DONE]"u8.ToArray();

    /// <summary>
    /// Relays an SSE stream event by event as it arrives (awaiting each write, so a slow reader slows the relay
    /// rather than filling memory). The usage the gateway asked for is read from the usage-only chunk, which is
    /// dropped unless the caller asked for it too (and then carries the cost). If the caller leaves, the gateway keeps
    /// reading without relaying, for a bounded time, to learn what the provider billed; if the stream ends without
    /// usage, what was received is counted with the model's tokenizer and the record is marked estimated.
    /// </summary>
    private async Task<GatewayError?> RelayStreamAsync(Exchange exchange, ModelRequest request, UpstreamBody upstreamBody, CancellationTokenSource upstreamCts)
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
        // The cut decision uses the raw count (no approximation margin): a stream that honoured the cap is never cut.
        var counter = Tokenization.TokenCounterRegistry.Shared.Get(model.Encoding, 0);
        long allowedOutput = exchange.Admission?.ReservedOutput ?? long.MaxValue;
        long streamedOutput = 0;
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

                        if (generated.Length > counted)
                        {
                            streamedOutput += counter.Count(generated.ToString(counted, generated.Length - counted));
                            counted = generated.Length;
                            if (streamedOutput > allowedOutput)
                            {
                                // The upstream ignored the output cap: cut the stream where the reservation ends.
                                exchange.Overshoot = true;
                                cut = new GatewayError(502, ErrorTypes.Server, "output_limit_exceeded",
                                    $"The upstream produced more than the {allowedOutput} output tokens reserved for this request; the stream was cut.");
                                break;
                            }
                        }

                        if (scan.HasUsage)
                        {
                            reported = scan.Usage;
                            exchange.Bill(scan.Usage, UsageSource.Reported);
                            if (exchange.Admission is { } admitted && (scan.Usage.OutputTokens > admitted.ReservedOutput || scan.Usage.InputTokens > admitted.InputTokens))
                            {
                                exchange.Overshoot = true;
                            }

                            if (scan.Choices <= 0)
                            {
                                relay = request.IncludeUsage
                                    ? CostInjector.SseEvent(CostInjector.Inject(data, scan.UsageEnd, scan.UsageEmpty, exchange.CostNanos))
                                    : ReadOnlyMemory<byte>.Empty;
                            }
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
            exchange.Bill(UsageEstimator.Estimate(request, model, generated.ToString()), UsageSource.Estimated);
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
