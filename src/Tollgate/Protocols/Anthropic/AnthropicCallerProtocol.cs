using System.Buffers;
using System.Text.Json;
using Tollgate.Limits;
using Tollgate.Protocol;
using Tollgate.Proxy;

namespace Tollgate.Protocols.Anthropic;

/// <summary>
/// Anthropic's caller side: errors as <c>{"type":"error","error":{…}}</c> (<see cref="AnthropicErrorWriter"/>), limits
/// as <c>anthropic-ratelimit-*</c> (<see cref="AnthropicRateLimitHeaders"/>), the cost as <c>usage.cost_nanousd</c> (in
/// a whole message, and in a stream's <c>message_delta</c>), and streams of named events ending in <c>message_stop</c>.
/// </summary>
internal sealed class AnthropicCallerProtocol : ICallerProtocol
{
    private static readonly byte[] s_ping = "event: ping\ndata: {\"type\": \"ping\"}\n\n"u8.ToArray();
    private static readonly byte[] s_stop = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"u8.ToArray();

    private AnthropicCallerProtocol()
    {
    }

    public static AnthropicCallerProtocol Instance { get; } = new();

    public string StreamContentType => "text/event-stream; charset=utf-8";

    public ReadOnlyMemory<byte> EndOfStream => s_stop;

    // Anthropic's own keep-alive: a ping event, which its SDKs read and skip.
    public ReadOnlyMemory<byte> KeepAlive => s_ping;

    public Task WriteErrorAsync(HttpContext http, GatewayError error) => AnthropicErrorWriter.WriteAsync(http, error);

    public ReadOnlyMemory<byte> ErrorEvent(GatewayError error) => AnthropicErrorWriter.SseEvent(error);

    public void WriteLimits(IHeaderDictionary headers, IReadOnlyList<LimitStatus> statuses, string? warning)
    {
        AnthropicRateLimitHeaders.Write(headers, statuses, refusedBy: null);
        if (warning is not null)
        {
            headers[RateLimitHeaders.BudgetWarning] = warning;
        }
    }

    public ReadOnlyMemory<byte> WithCost(ReadOnlySpan<byte> body, in ResponseScan scan, long costNanos) =>
        scan.UsageEnd >= 0 ? CostInjector.Inject(body, scan.UsageEnd, scan.UsageEmpty, costNanos) : body.ToArray();

    // message_delta also carries the stop reason: it is always relayed, with the cost added to its usage.
    public ReadOnlyMemory<byte> UsageEvent(ModelRequest request, ReadOnlySpan<byte> data, in ResponseScan scan, long costNanos) =>
        Event("message_delta", scan.UsageEnd >= 0 ? CostInjector.Inject(data, scan.UsageEnd, scan.UsageEmpty, costNanos) : data);

    public ReadOnlyMemory<byte> EstimatedUsageEvent(in EstimatedUsage usage)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "message_delta");
            writer.WriteStartObject("delta");
            writer.WriteNull("stop_reason");
            writer.WriteNull("stop_sequence");
            writer.WriteEndObject();
            writer.WriteStartObject("usage");
            writer.WriteNumber("input_tokens", usage.Usage.InputTokens);
            writer.WriteNumber("output_tokens", usage.Usage.OutputTokens);
            writer.WriteNumber(CostInjector.Field, usage.CostNanos);
            writer.WriteBoolean("estimated", true);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Event("message_delta", buffer.WrittenSpan);
    }

    private static byte[] Event(string name, ReadOnlySpan<byte> json)
    {
        var buffer = new ArrayBufferWriter<byte>(json.Length + name.Length + 16);
        buffer.Write("event: "u8);
        buffer.Write(System.Text.Encoding.ASCII.GetBytes(name));
        buffer.Write("\ndata: "u8);
        buffer.Write(json);
        buffer.Write("\n\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}
