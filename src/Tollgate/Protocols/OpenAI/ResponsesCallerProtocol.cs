using System.Buffers;
using System.Text.Json;
using Tollgate.Limits;
using Tollgate.Protocol;
using Tollgate.Protocol.Translation;

namespace Tollgate.Protocols.OpenAI;

/// <summary>
/// The caller side of OpenAI's Responses API: refusals in OpenAI's error envelope (as for chat), limits as
/// <c>x-ratelimit-*</c>, the cost as <c>usage.cost_nanousd</c> on the response object (in a stream, on the final
/// <c>response.completed</c> / <c>response.incomplete</c> / <c>response.failed</c> event, which is always relayed),
/// and an error after a stream started as the Responses <c>error</c> event. A Responses stream has no end marker.
/// </summary>
internal sealed class ResponsesCallerProtocol : ICallerProtocol
{
    private ResponsesCallerProtocol()
    {
    }

    public static ResponsesCallerProtocol Instance { get; } = new();

    public string StreamContentType => OpenAICallerProtocol.Instance.StreamContentType;

    public ReadOnlyMemory<byte> EndOfStream => ReadOnlyMemory<byte>.Empty;

    // An SSE comment, as for chat completions: the SDKs skip it.
    public ReadOnlyMemory<byte> KeepAlive => OpenAICallerProtocol.Instance.KeepAlive;

    public Task WriteErrorAsync(HttpContext http, GatewayError error) => OpenAIErrorWriter.WriteAsync(http, error);

    /// <summary><c>event: error</c> with <c>{"type":"error","code","message","param"}</c>, as the Responses API streams errors.</summary>
    public ReadOnlyMemory<byte> ErrorEvent(GatewayError error)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write("event: error\ndata: "u8);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "error");
            writer.WriteString("code", error.Code);
            writer.WriteString("message", error.Message);
            if (error.Param is null)
            {
                writer.WriteNull("param");
            }
            else
            {
                writer.WriteString("param", error.Param);
            }

            writer.WriteEndObject();
        }

        buffer.Write("\n\n"u8);
        return buffer.WrittenMemory;
    }

    public void WriteLimits(IHeaderDictionary headers, IReadOnlyList<LimitStatus> statuses, string? warning) =>
        OpenAICallerProtocol.Instance.WriteLimits(headers, statuses, warning);

    public ReadOnlyMemory<byte> WithCost(ReadOnlySpan<byte> body, in ResponseScan scan, long costNanos) =>
        CostInjector.Inject(body, scan.UsageEnd, scan.UsageEmpty, costNanos);

    // The final event carries the whole response as well as its usage: always relayed, with the cost added.
    public ReadOnlyMemory<byte> UsageEvent(ModelRequest request, ReadOnlySpan<byte> data, in ResponseScan scan, long costNanos)
    {
        if (scan.UsageEnd < 0)
        {
            return Event(EventType(data), data);
        }

        return Event(EventType(data), CostInjector.Inject(data, scan.UsageEnd, scan.UsageEmpty, costNanos));
    }

    // A Responses stream has no usage event of its own: the final event carries the usage. When the upstream's final
    // event carried none (or none readable), it was held back and goes out here with Tollgate's count, marked estimated.
    public ReadOnlyMemory<byte> EstimatedUsageEvent(in EstimatedUsage usage)
    {
        if (usage.FinalEvent.IsEmpty)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        var data = usage.FinalEvent;
        byte[]? billed = ResponsesFinalEvent.WithUsage(data, new TranslatedUsage(usage.Usage, usage.CostNanos, Estimated: true));
        return Event(EventType(data.Span), billed ?? data.Span);
    }

    private static byte[] Event(string? type, ReadOnlySpan<byte> json)
    {
        var buffer = new ArrayBufferWriter<byte>(json.Length + 64);
        if (type is not null)
        {
            buffer.Write("event: "u8);
            buffer.Write(System.Text.Encoding.UTF8.GetBytes(type));
            buffer.Write("\n"u8);
        }

        buffer.Write("data: "u8);
        buffer.Write(json);
        buffer.Write("\n\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    // The event's own type, when it is a plain name (it names the SSE event, so it must hold no line break).
    private static string? EventType(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    string? type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    return type is { Length: > 0 and <= 64 } && type.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_') ? type : null;
                }

                reader.Read();
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        catch (InvalidOperationException)
        {
        }

        return null;
    }
}
