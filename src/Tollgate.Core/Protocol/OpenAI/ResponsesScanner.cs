using System.Text;
using System.Text.Json;
using Tollgate.Pricing;

namespace Tollgate.Protocol;

/// <summary>
/// Reads a Responses API body or stream event in one forward pass: the usage (<c>input_tokens</c>,
/// <c>input_tokens_details.cached_tokens</c>, <c>output_tokens</c>, <c>output_tokens_details.reasoning_tokens</c>) at
/// the top of a response object, or inside the <c>response</c> of an event (<c>response.completed</c>,
/// <c>response.incomplete</c>, <c>response.failed</c>); whether it is an error; and, into an optional sink, the
/// generated text — the output items' text, refusals and function arguments of a whole response, the deltas of a
/// stream (the final event's copy of the output is not counted twice); and the hosted tool calls (output items such as
/// <c>web_search_call</c>) the output lists or a stream event announces as done, whose fees are billed.
/// </summary>
public static class ResponsesScanner
{
    /// <summary>Scans a whole response body.</summary>
    public static ResponseScan ScanResponse(ReadOnlySpan<byte> json, StringBuilder? generated) => Scan(json, generated, isEvent: false);

    /// <summary>Scans one stream event's data.</summary>
    public static ResponseScan ScanEvent(ReadOnlySpan<byte> json, StringBuilder? generated) => Scan(json, generated, isEvent: true);

    private static ResponseScan Scan(ReadOnlySpan<byte> json, StringBuilder? generated, bool isEvent)
    {
        var scan = new ResponseScan { Choices = -1 };
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 128 });
        string? type = null;
        string? delta = null;
        string? itemType = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return scan;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    ReadUsage(ref reader, ref scan);
                }
                else if (!isEvent && reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    scan.ResponseId = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    reader.Skip();
                }
                else if (isEvent && reader.ValueTextEquals("response"u8))
                {
                    reader.Read();
                    ReadEventResponse(ref reader, ref scan);
                }
                else if (isEvent && reader.ValueTextEquals("delta"u8))
                {
                    reader.Read();
                    delta = reader.TokenType == JsonTokenType.String && generated is not null ? Lenient(ref reader) : null;
                    reader.Skip();
                }
                else if (!isEvent && reader.ValueTextEquals("output"u8))
                {
                    reader.Read();
                    scan.ToolCalls = ReadOutput(ref reader, generated);
                }
                else if (isEvent && reader.ValueTextEquals("item"u8))
                {
                    reader.Read();
                    itemType = ItemType(ref reader);
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    scan.IsError |= reader.TokenType != JsonTokenType.Null;
                    reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            // Nothing may follow the object: a body of two values is not JSON, and would reach the caller as such.
            scan.Valid = reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0 && !reader.Read();
        }
        catch (JsonException)
        {
            scan.Valid = false;
        }

        if (type is "error" or "response.failed")
        {
            scan.IsError = true;
        }

        scan.IsFinal = isEvent && type is "response.completed" or "response.incomplete" or "response.failed";

        if (itemType is not null && type == "response.output_item.done" && ResponsesTools.IsHostedCallItem(itemType))
        {
            scan.ToolCallItem = itemType;
        }

        if (delta is not null && type is not null && type.EndsWith(".delta", StringComparison.Ordinal))
        {
            generated!.Append(delta);
        }

        // Usage is never on a content event here: the final event carries it (and the whole output) once.
        scan.Choices = scan.HasUsage ? 0 : -1;
        return scan;
    }

    private static void ReadEventResponse(ref Utf8JsonReader reader, ref ResponseScan scan)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        int depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                ReadUsage(ref reader, ref scan);
            }
            else if (reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                scan.ResponseId = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
            else if (reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("output"u8))
            {
                // The deltas carried the text already: only the calls are read here.
                reader.Read();
                scan.ToolCalls = ReadOutput(ref reader, null);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    // The output items: their text into generated (when given), and the hosted tool calls among them (null when none).
    private static HostedToolCalls? ReadOutput(ref Utf8JsonReader reader, StringBuilder? generated)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return null;
        }

        HostedToolCalls? calls = null;
        int depth = reader.CurrentDepth;
        bool collect = false;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 2 && reader.ValueTextEquals("type"u8))
            {
                // An item's own type (depth: the array, its item objects, their members).
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && reader.GetString() is { } type && ResponsesTools.IsHostedCallItem(type))
                {
                    (calls ??= new HostedToolCalls()).Add(type);
                }

                reader.Skip();
                collect = false;
            }
            else if (generated is null)
            {
                continue;
            }
            else if (reader.TokenType == JsonTokenType.PropertyName)
            {
                collect = reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("refusal"u8)
                    || reader.ValueTextEquals("arguments"u8) || reader.ValueTextEquals("name"u8) || reader.ValueTextEquals("input"u8);
            }
            else if (reader.TokenType == JsonTokenType.String && collect)
            {
                generated.Append(Lenient(ref reader));
                collect = false;
            }
            else
            {
                collect = false;
            }
        }

        return calls;
    }

    // The type of a stream event's item, or null.
    private static string? ItemType(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        string? type = null;
        int depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
        }

        return type;
    }

    private static void ReadUsage(ref Utf8JsonReader reader, ref ResponseScan scan) =>
        ResponseScanner.ReadUsage(ref reader, ref scan, "input_tokens"u8, "output_tokens"u8, countsAtTopOnly: true);

    private static string Lenient(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            return Encoding.UTF8.GetString(reader.ValueSpan);
        }

        try
        {
            return reader.GetString() ?? "";
        }
        catch (InvalidOperationException)
        {
            return Encoding.UTF8.GetString(reader.ValueSpan);
        }
    }
}
