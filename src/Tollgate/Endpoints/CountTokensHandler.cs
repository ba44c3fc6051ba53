using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Json;
using Tollgate.Audit;
using Tollgate.Pipeline;
using Tollgate.Pipeline.Steps;
using Tollgate.Protocol;
using Tollgate.Proxy;
using Tollgate.Tokenization;
using Tollgate.Upstreams;

namespace Tollgate.Endpoints;

/// <summary>
/// <c>POST /v1/messages/count_tokens</c>: the body is read and the model authorized as for a message; then the count is
/// asked of the model's upstream when its kind offers it (Anthropic, the simulator), else — or when that upstream
/// cannot be reached — counted locally with the model's tokenizer (its approximation margin included). It is audited
/// under its caller and consumes no tokens, money or request allowance.
/// </summary>
internal sealed partial class CountTokensHandler(UpstreamClients upstreams, ILogger<CountTokensHandler> logger)
{
    private const int MaxAnswerBytes = 64 * 1024;

    public async Task<GatewayError?> HandleAsync(RequestContext context)
    {
        try
        {
            var error = ReadRequestStep.CheckMediaType(context.Http.Request)
                ?? await ReadRequestStep.RunAsync(context, AnthropicRequestReader.CountTokens).ConfigureAwait(false)
                ?? AuthorizeStep.Run(context);
            if (error is not null)
            {
                return error;
            }

            var model = context.Model!;
            var request = context.Request!;
            if (request.DocumentBlocks > 0 && model.DocumentTokens is null)
            {
                return ProtocolFitStep.DocumentsRefused(model.Name);
            }

            var options = context.Config.Options.Upstreams[model.UpstreamName];
            // Only an upstream that counts in Anthropic's own way is asked; any other (a translated one) is counted here.
            byte[]? answer = upstreams.ProtocolFor(options, ApiEndpoint.MessagesCountTokens) is { } protocol and not Protocol.Translation.ITranslatingProtocol
                ? await AskUpstreamAsync(context, options, protocol).ConfigureAwait(false)
                : null;
            if (context.UpstreamStatus is >= 400 and < 500 && answer is null)
            {
                return GatewayError.InvalidRequest($"The upstream for '{model.Name}' rejected the request (status {context.UpstreamStatus}).",
                    code: ErrorCodes.UpstreamRejectedRequest);
            }

            answer ??= LocalCount(UsageEstimator.CountInput(request, model));
            var response = context.Http.Response;
            response.StatusCode = 200;
            response.ContentType = "application/json";
            response.ContentLength = answer.Length;
            await response.Body.WriteAsync(answer, context.Http.RequestAborted).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && context.Http.RequestAborted.IsCancellationRequested)
        {
            context.ClientAborted = true;
            context.Reason = AuditReasons.ClientAborted;
            return null;
        }
        finally
        {
            context.Request?.Dispose();
            context.Request = null;
        }
    }

    private static byte[] LocalCount(long tokens)
    {
        var buffer = new ArrayBufferWriter<byte>(32);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("input_tokens", tokens);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    // The upstream's own count, relayed when it is a well-formed {"input_tokens": N}; null to count locally (or, with
    // a 4xx status recorded, to refuse).
    private async Task<byte[]?> AskUpstreamAsync(RequestContext context, Configuration.UpstreamOptions options, IUpstreamProtocol protocol)
    {
        var model = context.Model!;
        var request = context.Request!;
        using var lease = upstreams.Rent(model.UpstreamName, options);
        var upstream = lease.Client;
        var body = new ArrayBufferWriter<byte>(request.Size + 16);
        protocol.WriteRequest(request, new UpstreamRewrite(model.UpstreamModel, null, 0), body);
        using var message = new HttpRequestMessage(HttpMethod.Post, upstream.AddressOf(protocol.PathFor(ApiEndpoint.MessagesCountTokens)))
        {
            Content = new ReadOnlyMemoryContent(body.WrittenMemory),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        message.Headers.TryAddWithoutValidation("x-client-request-id", context.RequestId);
        CallerHeaders.CopyTo(context.Http.Request.Headers, message, protocol);

        upstream.PrepareRequest(message);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.Http.RequestAborted);
        timeout.CancelAfter(options.ResponseTimeout);
        context.UpstreamStarted();
        try
        {
            using var response = await upstream.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            context.UpstreamStatus = (int)response.StatusCode;
            context.UpstreamRequestId = response.Headers.TryGetValues("x-request-id", out var ids) || response.Headers.TryGetValues("request-id", out ids)
                ? Display.Bounded(ids.First()) : null;
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            byte[] buffer = new byte[MaxAnswerBytes];
            int total = 0, read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), timeout.Token).ConfigureAwait(false)) > 0)
            {
                total += read;
            }

            var answer = buffer.AsMemory(0, total);
            return IsCount(answer.Span) ? answer.ToArray() : null;
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !context.Http.RequestAborted.IsCancellationRequested))
        {
            // Unreachable, slow or broken: the count is made locally instead (it errs high).
            LogUpstreamCountFailed(logger, context.RequestId, model.UpstreamName, e.GetType().Name);
            context.UpstreamStatus = null;
            return null;
        }
        finally
        {
            context.UpstreamEnded();
        }
    }

    private static bool IsCount(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("input_tokens", out var tokens)
                && tokens.ValueKind == JsonValueKind.Number && tokens.TryGetInt64(out long count) && count >= 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Request {RequestId}: upstream {Upstream} could not count tokens ({Failure}); counted locally")]
    private static partial void LogUpstreamCountFailed(ILogger logger, string requestId, string upstream, string failure);
}
