using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using Tollgate.Configuration;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Upstreams;

namespace Tollgate.Proxy;

internal sealed partial class ModelProxy
{
    private const string ClientRequestIdHeader = "x-client-request-id";
    private const string UpstreamRequestIdHeader = "x-upstream-request-id";
    private const string CostHeader = "x-tollgate-cost-usd";

    private async Task<GatewayError?> ForwardAsync(Exchange exchange, ModelRequest request, GatewayConfig current)
    {
        var model = exchange.Model!;
        var upstreamOptions = current.Options.Upstreams[model.UpstreamName];
        using var lease = upstreams.Rent(model.UpstreamName, upstreamOptions);
        var upstream = lease.Client;
        var http = exchange.Http;

        var body = new ArrayBufferWriter<byte>(request.Document.RootElement.GetRawText().Length + 64);
        var admission = exchange.Admission!;
        ModelRequestRewriter.Write(request, model.UpstreamModel, admission.CapChanged ? admission.CapField : null, admission.OutputCap, body);
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(upstream.BaseAddress, request.Endpoint.RelativePath()))
        {
            Content = new ReadOnlyMemoryContent(body.WrittenMemory),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        message.Headers.TryAddWithoutValidation(ClientRequestIdHeader, exchange.RequestId);
        if (upstream.ApiKey is { Length: > 0 } apiKey)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        if (request.Stream)
        {
            message.Headers.Accept.ParseAdd("text/event-stream");
        }

        // The upstream call is not cancelled by the caller leaving: the provider bills the generation anyway, so the
        // gateway keeps reading (for a bounded time) to learn what was billed.
        using var upstreamCts = CancellationTokenSource.CreateLinkedTokenSource(shutdown.HardStop);
        upstreamCts.CancelAfter(upstreamOptions.ResponseTimeout);
        var abandonWait = current.Options.Gateway.AbandonedStreamUsageWait;
        using var onAbort = http.RequestAborted.Register(() =>
        {
            exchange.ClientAborted = true;
            TryCancelAfter(upstreamCts, abandonWait);
        });

        HttpResponseMessage response;
        exchange.UpstreamStarted();
        try
        {
            response = await upstream.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, upstreamCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            exchange.UpstreamEnded();
            if (!upstreamCts.IsCancellationRequested)
            {
                // The connect timeout: the request never left.
                BillUnknown(exchange, request, upstreamOptions, UnknownOutcome.ConnectFailure, "");
                return new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError, $"The upstream for '{model.Name}' could not be reached.");
            }

            // The request was sent and its outcome is unknown: the provider may bill it.
            BillUnknown(exchange, request, upstreamOptions, UnknownOutcome.TimeoutBeforeHeaders, "");
            return exchange.ClientAborted
                ? new GatewayError(499, ErrorTypes.InvalidRequest, "client_aborted", "The caller closed the connection.")
                : new GatewayError(504, ErrorTypes.Server, ErrorCodes.UpstreamTimeout,
                    $"The upstream for '{model.Name}' did not respond within {upstreamOptions.ResponseTimeout.TotalSeconds:0.#} s.");
        }
        catch (HttpRequestException e)
        {
            exchange.UpstreamEnded();
            BillUnknown(exchange, request, upstreamOptions,
                e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
                    ? UnknownOutcome.ConnectFailure : UnknownOutcome.ResetBeforeHeaders, "");
            return new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError, $"The upstream for '{model.Name}' could not be reached.");
        }

        using (response)
        {
            TryCancelAfter(upstreamCts, exchange.ClientAborted ? abandonWait : Timeout.InfiniteTimeSpan);
            if (exchange.ClientAborted)
            {
                // The caller may have left between the check and the reset above: keep the bound in force.
                TryCancelAfter(upstreamCts, abandonWait);
            }
            exchange.UpstreamStatus = (int)response.StatusCode;
            exchange.UpstreamRequestId = response.Headers.TryGetValues("x-request-id", out var ids) ? Bounded(ids.First()) : null;
            if (!response.IsSuccessStatusCode)
            {
                exchange.UpstreamEnded();
                return await UpstreamErrorAsync(exchange, response, upstream, upstreamCts.Token).ConfigureAwait(false);
            }

            var reader = new UpstreamBody(await response.Content.ReadAsStreamAsync(upstreamCts.Token).ConfigureAwait(false),
                upstreamOptions.IdleTimeout, upstreamCts.Token);
            await using (reader.ConfigureAwait(false))
            {
                bool isStream = request.Stream && response.Content.Headers.ContentType?.MediaType == "text/event-stream";
                return isStream
                    ? await RelayStreamAsync(exchange, request, reader, upstreamOptions, upstreamCts).ConfigureAwait(false)
                    : await RelayBufferedAsync(exchange, request, reader, current, upstreamOptions).ConfigureAwait(false);
            }
        }
    }

    private async Task<GatewayError?> RelayBufferedAsync(Exchange exchange, ModelRequest request, UpstreamBody upstreamBody, GatewayConfig current, UpstreamOptions upstreamOptions)
    {
        var model = exchange.Model!;
        var (body, complete) = await upstreamBody.ReadAllAsync(current.Options.Gateway.MaxResponseBodyBytes).ConfigureAwait(false);
        exchange.UpstreamEnded();
        var generated = new StringBuilder();
        var scan = ResponseScanner.Scan(body, generated);
        if (!complete || !scan.Valid)
        {
            // Whatever arrived may have been generated and billed: by default it is counted rather than billed at
            // nothing. Counting a broken body errs high (its JSON envelope is counted too), capped at the reservation.
            string text = generated.Length > 0 ? generated.ToString() : Encoding.UTF8.GetString(body);
            BillUnknown(exchange, request, upstreamOptions, UnknownOutcome.InvalidBody, text);
            return new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError, complete
                ? $"The upstream for '{model.Name}' returned a response that is not valid JSON."
                : $"The upstream for '{model.Name}' closed the connection before the response was complete.");
        }

        if (scan.UsageIsKnown(request.Endpoint != ApiEndpoint.Embeddings, generated.Length))
        {
            BillReported(exchange, request, scan.Usage);
            body = CostInjector.Inject(body, scan.UsageEnd, scan.UsageEmpty, exchange.CostNanos);
        }
        else
        {
            // No usage, or usage that cannot be true (missing or malformed counts, zero output for text that
            // arrived): unknown, so counted from the text and flagged estimated, never billed as zero.
            BillEstimate(exchange, request, generated.ToString(), flagOverrun: true);
        }

        if (exchange.ClientAborted)
        {
            exchange.Reason = "client_aborted";
            return null;
        }

        var response = exchange.Http.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        response.Headers[CostHeader] = Money.FormatDollars(exchange.CostNanos);
        if (exchange.UpstreamRequestId is not null)
        {
            response.Headers[UpstreamRequestIdHeader] = exchange.UpstreamRequestId;
        }

        try
        {
            await response.Body.WriteAsync(body, exchange.Http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            exchange.ClientAborted = true;
            exchange.Reason = "client_aborted";
        }

        return null;
    }

    private static async Task<GatewayError> UpstreamErrorAsync(Exchange exchange, HttpResponseMessage response, UpstreamClient upstream, CancellationToken cancellationToken)
    {
        int status = (int)response.StatusCode;
        string model = exchange.Model!.Name;
        if (status == 429)
        {
            // The provider's wait is passed on under the same rule as the gateway's own (RefusalRetry): up to a
            // minute as Retry-After, anything longer as "do not retry".
            var wait = response.Headers.RetryAfter?.Delta;
            if (wait is { } delta && delta > Limits.RefusalRetry.MaxRetryAfter)
            {
                return new GatewayError(429, "requests", "upstream_rate_limited",
                    $"The upstream for '{model}' is rate limiting requests for {RateLimitHeaders.Duration(delta)}; do not retry before.")
                { ShouldRetry = false };
            }

            return new GatewayError(429, "requests", "upstream_rate_limited",
                $"The upstream for '{model}' is rate limiting requests; retry after the delay in Retry-After.")
            { RetryAfter = wait };
        }

        if (status is 400 or 404 or 422)
        {
            // The provider's message helps the caller fix the request; scrub the gateway's own credential from it.
            string? detail = await ReadErrorMessageAsync(response, cancellationToken).ConfigureAwait(false);
            if (detail is not null && upstream.ApiKey is { Length: > 8 } key)
            {
                detail = detail.Replace(key, "[redacted]", StringComparison.Ordinal).Replace(key[..8], "[redacted]", StringComparison.Ordinal);
            }

            return new GatewayError(400, ErrorTypes.InvalidRequest, "upstream_rejected_request",
                $"The upstream for '{model}' rejected the request: {detail ?? "no detail"}");
        }

        return new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError,
            status is 401 or 403
                ? $"The upstream for '{model}' refused the gateway's credentials; contact the operator."
                : $"The upstream for '{model}' failed with status {status}.");
    }

    private static async Task<string?> ReadErrorMessageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            byte[] buffer = new byte[16 * 1024];
            int total = 0, read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
            }

            using var document = System.Text.Json.JsonDocument.Parse(buffer.AsMemory(0, total));
            return document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == System.Text.Json.JsonValueKind.Object
                && error.TryGetProperty("message", out var text) && text.ValueKind == System.Text.Json.JsonValueKind.String
                ? Bounded(text.GetString()!)
                : null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or IOException or OperationCanceledException or HttpRequestException)
        {
            return null;
        }
    }

    private static void TryCancelAfter(CancellationTokenSource source, TimeSpan delay)
    {
        try
        {
            source.CancelAfter(delay);
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
