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
                        done = true;
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
                            reported = scan.Usage;
                            exchange.Bill(scan.Usage, UsageSource.Reported);
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
