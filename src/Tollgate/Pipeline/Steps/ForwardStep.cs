using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Tollgate.Configuration;
using Tollgate.Hosting;
using Tollgate.Limits;
using Tollgate.Protocol;
using Tollgate.Protocol.Translation;
using Tollgate.Proxy;
using Tollgate.Upstreams;

namespace Tollgate.Pipeline.Steps;

/// <summary>
/// Step 6: forward. The upstream side of the protocol writes the body (the caller's bytes except the fields policy
/// rewrites) and the request goes with the upstream's own credential, never the caller's. The outcome is a value: an
/// <see cref="UpstreamCall"/> whose headers arrived with a success status, or the refusal to send — after billing an
/// unknown outcome (connect failure, timeout, reset) by the upstream's rule.
/// </summary>
internal sealed class ForwardStep(UpstreamClients upstreams, ShutdownState shutdown)
{
    private const string ClientRequestIdHeader = "x-client-request-id";

    public async ValueTask<(UpstreamCall? Call, GatewayError? Error)> RunAsync(RequestContext context)
    {
        var model = context.Model!;
        var request = context.Request!;
        var held = context.Reservation!;
        var admission = held.Admission;
        var upstreamOptions = context.Config.Options.Upstreams[model.UpstreamName];
        // The lease keeps the client alive (a reload may replace it) until the answer has been read.
        var lease = upstreams.Rent(model.UpstreamName, upstreamOptions);
        var upstream = lease.Client;
        var http = context.Http;
        if (upstreams.ProtocolFor(upstreamOptions, request.Endpoint) is not { } protocol)
        {
            // A reload changed the model's upstream since the protocol was checked: nothing was sent.
            lease.Dispose();
            await held.ReleaseAsync().ConfigureAwait(false);
            return (null, ProtocolFitStep.Unserved(model, upstreamOptions, request.Endpoint));
        }

        // Everything made below belongs to the UpstreamCall once it exists; until then, to this method, which disposes
        // it on every other way out (a refusal, or an exception).
        HttpRequestMessage? message = null;
        CancellationTokenSource? deadline = null;
        CancellationTokenRegistration onAbort = default;
        HttpResponseMessage? response = null;
        UpstreamCall? call = null;
        try
        {
            var body = new ArrayBufferWriter<byte>(request.Size + 64);
            protocol.WriteRequest(request, UpstreamRewrite.For(model, admission), body);
            // A translated request goes to the upstream's own endpoint (chat completions for a Messages caller).
            var upstreamEndpoint = protocol is ITranslatingProtocol translated ? translated.UpstreamEndpoint : request.Endpoint;
            message = new HttpRequestMessage(HttpMethod.Post, upstream.AddressOf(upstream.PathFor(protocol.PathFor(request.Endpoint), upstreamEndpoint, model.UpstreamModel)))
            {
                Content = new ReadOnlyMemoryContent(body.WrittenMemory),
            };
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            message.Headers.TryAddWithoutValidation(ClientRequestIdHeader, context.RequestId);
            CallerHeaders.CopyTo(http.Request.Headers, message, protocol);

            upstream.PrepareRequest(message);

            if (request.Stream)
            {
                message.Headers.Accept.ParseAdd("text/event-stream");
            }

            // The upstream call is not cancelled by the caller leaving: the provider bills the generation anyway, so
            // the gateway keeps reading (for a bounded time) to learn what was billed.
            var timeout = CancellationTokenSource.CreateLinkedTokenSource(shutdown.HardStop);
            deadline = timeout;
            // TotalTimeout bounds the whole call (the body included); before the headers, the shorter of the two applies.
            long started = Stopwatch.GetTimestamp();
            var total = upstreamOptions.TotalTimeout;
            var responseTimeout = total is { } t && t < upstreamOptions.ResponseTimeout ? t : upstreamOptions.ResponseTimeout;
            timeout.CancelAfter(responseTimeout);
            var abandonWait = context.Config.Options.Gateway.AbandonedStreamUsageWait;
            onAbort = http.RequestAborted.Register(() =>
            {
                context.ClientAborted = true;
                UpstreamCall.TryCancelAfter(timeout, abandonWait);
            });

            // A retry or fallback starts afresh: what an earlier attempt's upstream said is not this one's.
            context.UpstreamStatus = null;
            context.UpstreamRequestId = null;
            context.UpstreamStarted();
            try
            {
                response = await upstream.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or HttpRequestException)
            {
                context.UpstreamEnded();
                return (null, Unanswered(context, held, upstreamOptions, e, timedOut: timeout.IsCancellationRequested, responseTimeout));
            }

            var rest = total is { } limit ? limit - Stopwatch.GetElapsedTime(started) : Timeout.InfiniteTimeSpan;
            if (rest != Timeout.InfiniteTimeSpan && rest <= TimeSpan.Zero)
            {
                rest = TimeSpan.FromTicks(1);
            }

            UpstreamCall.TryCancelAfter(timeout, context.ClientAborted && (rest == Timeout.InfiniteTimeSpan || abandonWait < rest) ? abandonWait : rest);
            if (context.ClientAborted)
            {
                // The caller may have left between the check and the reset above: keep the bound in force.
                UpstreamCall.TryCancelAfter(timeout, abandonWait);
            }

            context.UpstreamStatus = (int)response.StatusCode;
            context.UpstreamRequestId = response.Headers.TryGetValues("x-request-id", out var ids) || response.Headers.TryGetValues("request-id", out ids)
                ? Display.Bounded(ids.First()) : null;
            if (!response.IsSuccessStatusCode)
            {
                context.UpstreamEnded();
                return (null, await UpstreamErrorAsync(model.Name, response, upstream, timeout.Token).ConfigureAwait(false));
            }

            var content = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            var reader = new UpstreamBody(content, upstreamOptions.IdleTimeout, timeout.Token);
            call = new UpstreamCall(lease, message, response, timeout, onAbort, reader, upstreamOptions, protocol, abandonWait)
            {
                TotalDeadline = total is { } whole ? started + (long)(whole.TotalSeconds * Stopwatch.Frequency) : 0,
            };
            return (call, null);
        }
        finally
        {
            if (call is null)
            {
                await onAbort.DisposeAsync().ConfigureAwait(false);
                response?.Dispose();
                message?.Dispose();
                deadline?.Dispose();
                lease.Dispose();
            }
        }
    }

    // No response headers: a connect failure (the request never left), or an outcome the provider may bill.
    private static GatewayError Unanswered(RequestContext context, HeldReservation held, UpstreamOptions options, Exception e, bool timedOut, TimeSpan responseTimeout)
    {
        string model = context.Model!.Name;
        if (e is HttpRequestException http)
        {
            held.BillUnknown(options, http.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
                ? UnknownOutcome.ConnectFailure : UnknownOutcome.ResetBeforeHeaders, "");
            return new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError, $"The upstream for '{model}' could not be reached.");
        }

        if (!timedOut)
        {
            // The connect timeout: the request never left.
            held.BillUnknown(options, UnknownOutcome.ConnectFailure, "");
            return new GatewayError(502, ErrorTypes.Server, ErrorCodes.UpstreamError, $"The upstream for '{model}' could not be reached.");
        }

        // The request was sent and its outcome is unknown: the provider may bill it.
        held.BillUnknown(options, UnknownOutcome.TimeoutBeforeHeaders, "");
        return context.ClientAborted
            ? new GatewayError(499, ErrorTypes.InvalidRequest, Audit.AuditReasons.ClientAborted, "The caller closed the connection.")
            : new GatewayError(504, ErrorTypes.Server, ErrorCodes.UpstreamTimeout,
                $"The upstream for '{model}' did not respond within {responseTimeout.TotalSeconds:0.#} s.");
    }

    private static async Task<GatewayError> UpstreamErrorAsync(string model, HttpResponseMessage response, UpstreamClient upstream, CancellationToken cancellationToken)
    {
        int status = (int)response.StatusCode;
        if (status == 429)
        {
            // The provider's wait is passed on under the same rule as the gateway's own (RefusalRetry): up to a
            // minute as Retry-After, anything longer as "do not retry".
            var wait = response.Headers.RetryAfter?.Delta;
            if (wait is { } delta && delta > RefusalRetry.MaxRetryAfter)
            {
                return new GatewayError(429, "requests", ErrorCodes.UpstreamRateLimited,
                    $"The upstream for '{model}' is rate limiting requests for {LimitText.Duration(delta)}; do not retry before.")
                { ShouldRetry = false };
            }

            return new GatewayError(429, "requests", ErrorCodes.UpstreamRateLimited,
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

            return new GatewayError(400, ErrorTypes.InvalidRequest, ErrorCodes.UpstreamRejectedRequest,
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

            using var document = JsonDocument.Parse(buffer.AsMemory(0, total));
            return document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var text) && text.ValueKind == JsonValueKind.String
                ? Display.Bounded(text.GetString()!)
                : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or IOException or OperationCanceledException or HttpRequestException)
        {
            return null;
        }
    }
}
