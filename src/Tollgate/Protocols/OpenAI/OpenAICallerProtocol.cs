using System.Buffers;
using System.Text.Json;
using Tollgate.Limits;
using Tollgate.Protocol;
using Tollgate.Proxy;

namespace Tollgate.Protocols.OpenAI;

/// <summary>
/// OpenAI's caller side: errors as <c>{"error":{…}}</c> (<see cref="OpenAIErrorWriter"/>), limits as
/// <c>x-ratelimit-*</c> (<see cref="RateLimitHeaders"/>), the cost as <c>usage.cost_nanousd</c>, and server-sent
/// events ending in <c>data: [DONE]</c>.
/// </summary>
internal sealed class OpenAICallerProtocol : ICallerProtocol
{
    private static readonly byte[] s_done = "data: [DONE]\n\n"u8.ToArray();
    private static readonly byte[] s_keepAlive = ": keep-alive\n\n"u8.ToArray();

    private OpenAICallerProtocol()
    {
    }

    public static OpenAICallerProtocol Instance { get; } = new();

    public string StreamContentType => "text/event-stream; charset=utf-8";

    public ReadOnlyMemory<byte> EndOfStream => s_done;

    public ReadOnlyMemory<byte> KeepAlive => s_keepAlive;

    public Task WriteErrorAsync(HttpContext http, GatewayError error) => OpenAIErrorWriter.WriteAsync(http, error);

    public ReadOnlyMemory<byte> ErrorEvent(GatewayError error) => OpenAIErrorWriter.SseEvent(error);

    public void WriteLimits(IHeaderDictionary headers, IReadOnlyList<LimitStatus> statuses, string? warning)
    {
        RateLimitHeaders.Write(headers, statuses, refusedBy: null);
        if (warning is not null)
        {
            headers[RateLimitHeaders.BudgetWarning] = warning;
        }
    }

    public ReadOnlyMemory<byte> WithCost(ReadOnlySpan<byte> body, in ResponseScan scan, long costNanos) =>
        CostInjector.Inject(body, scan.UsageEnd, scan.UsageEmpty, costNanos);

    public ReadOnlyMemory<byte> CachedStream(ModelRequest request, ReadOnlySpan<byte> answer, long costNanos) =>
        OpenAICachedStream.Write(request, answer, costNanos);

    public ReadOnlyMemory<byte> UsageEvent(ModelRequest request, ReadOnlySpan<byte> data, in ResponseScan scan, long costNanos) =>
        request.IncludeUsage && scan.UsageEnd >= 0
            ? CostInjector.SseEvent(CostInjector.Inject(data, scan.UsageEnd, scan.UsageEmpty, costNanos))
            : ReadOnlyMemory<byte>.Empty;

    public ReadOnlyMemory<byte> EstimatedUsageEvent(in EstimatedUsage usage)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", (usage.Endpoint == ApiEndpoint.Completions ? "cmpl-" : "chatcmpl-") + usage.RequestId);
            writer.WriteString("object", usage.Endpoint == ApiEndpoint.Completions ? "text_completion" : "chat.completion.chunk");
            writer.WriteString("model", usage.Model);
            writer.WriteStartArray("choices");
            writer.WriteEndArray();
            writer.WriteStartObject("usage");
            writer.WriteNumber("prompt_tokens", usage.Usage.InputTokens);
            writer.WriteNumber("completion_tokens", usage.Usage.OutputTokens);
            writer.WriteNumber("total_tokens", usage.Usage.TotalTokens);
            writer.WriteNumber(CostInjector.Field, usage.CostNanos);
            writer.WriteBoolean("estimated", true);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return CostInjector.SseEvent(buffer.WrittenSpan);
    }
}
