using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>
/// Finds the first string in a JSON document that is not valid Unicode: raw bytes that are not UTF-8, or a
/// <c>\u</c> escape of a surrogate without its pair. <see cref="JsonDocument"/> accepts both, and every later
/// reader of the text (token counting, the repetition check, the upstream) would fail or guess; the gateway refuses
/// such a request instead, naming the field, and never rewrites the caller's text.
/// </summary>
public static class JsonTextValidator
{
    /// <summary>The JSON path of the first invalid string (or property name) under <paramref name="root"/>, or null.</summary>
    public static string? FindInvalid(JsonElement root)
    {
        var path = new List<string>();
        return Walk(root, path) ? null : Join(path);
    }

    private static bool Walk(JsonElement element, List<string> path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return IsValid(JsonMarshal.GetRawUtf8Value(element));
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!IsValid(JsonMarshal.GetRawUtf8PropertyName(property)))
                    {
                        return false;
                    }

                    if (!Walk(property.Value, path))
                    {
                        path.Add("." + property.Name);
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Array:
                int index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (!Walk(item, path))
                    {
                        path.Add("[" + index.ToString(System.Globalization.CultureInfo.InvariantCulture) + "]");
                        return false;
                    }

                    index++;
                }

                return true;
            default:
                return true;
        }
    }

    /// <summary>
    /// Whether raw JSON string content (with or without its quotes) is valid UTF-8 whose escapes decode to valid
    /// UTF-16: every escaped high surrogate followed by an escaped low surrogate, and no low surrogate alone.
    /// </summary>
    public static bool IsValid(ReadOnlySpan<byte> raw)
    {
        if (!System.Text.Unicode.Utf8.IsValid(raw))
        {
            return false;
        }

        int slash = raw.IndexOf((byte)'\\');
        if (slash < 0)
        {
            return true;
        }

        for (int i = slash; i < raw.Length; i++)
        {
            if (raw[i] != '\\')
            {
                continue;
            }

            if (i + 1 >= raw.Length)
            {
                return false;
            }

            if (raw[i + 1] != 'u')
            {
                i++;
                continue;
            }

            if (!TryHex(raw, i + 2, out int unit))
            {
                return false;
            }

            i += 5;
            if (char.IsLowSurrogate((char)unit))
            {
                return false;
            }

            if (char.IsHighSurrogate((char)unit))
            {
                if (i + 6 >= raw.Length || raw[i + 1] != '\\' || raw[i + 2] != 'u' || !TryHex(raw, i + 3, out int low)
                    || !char.IsLowSurrogate((char)low))
                {
                    return false;
                }

                i += 6;
            }
        }

        return true;
    }

    private static bool TryHex(ReadOnlySpan<byte> raw, int start, out int value)
    {
        value = 0;
        if (start + 4 > raw.Length)
        {
            return false;
        }

        for (int k = start; k < start + 4; k++)
        {
            int digit = HexDigit(raw[k]);
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | digit;
        }

        return true;
    }

    private static int HexDigit(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    private static string Join(List<string> reversed)
    {
        var text = new StringBuilder();
        for (int i = reversed.Count - 1; i >= 0; i--)
        {
            text.Append(reversed[i]);
        }

        // A top-level field is named without its leading dot: messages[0].content.
        return text.Length > 0 && text[0] == '.' ? text.ToString(1, text.Length - 1) : text.ToString();
    }
}
