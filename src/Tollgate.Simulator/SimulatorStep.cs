using System.Text.Json;

namespace Tollgate.Simulator;

/// <summary>
/// One step of a scripted conversation: a call to tool <see cref="Tool"/> (with <see cref="Arguments"/>, or arguments
/// generated from the tool's schema when null), or the answer <see cref="Text"/>.
/// </summary>
internal sealed record SimulatorStep(string? Tool, string? Arguments, string? Text)
{
    /// <summary>Reads <c>NAME</c> or <c>NAME {JSON object}</c>; null when malformed.</summary>
    public static SimulatorStep? TryParseCall(string value)
    {
        int space = value.IndexOf(' ', StringComparison.Ordinal);
        string name = space < 0 ? value : value[..space];
        string? arguments = space < 0 ? null : value[(space + 1)..].Trim();
        if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')))
        {
            return null;
        }

        if (arguments is { Length: > 0 })
        {
            try
            {
                using var document = JsonDocument.Parse(arguments);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return null;
                }

                // Compact, as a model writes arguments.
                var buffer = new System.Buffers.ArrayBufferWriter<byte>();
                using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                {
                    document.RootElement.WriteTo(json);
                }

                arguments = System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        return new SimulatorStep(name, arguments is { Length: > 0 } ? arguments : null, null);
    }
}
