using System.Buffers.Binary;
using System.Text.Json;

namespace Tollgate.Tokenization;

/// <summary>
/// Input tokens of an image part, by OpenAI's published formula for GPT-4o-class models — never by the length of its
/// base64: <c>detail: low</c> costs 85; otherwise the image is scaled to fit 2048×2048, then its shortest side to 768,
/// and costs 85 + 170 per 512-pixel tile. Dimensions are read from the header of a <c>data:</c> URL (PNG, GIF, JPEG,
/// reading at most 64 KiB); for a remote URL or an unreadable header the largest possible cost (8 tiles, 1445
/// tokens) is assumed, so the estimate never falls short.
/// </summary>
public static class ImageTokenCounter
{
    /// <summary>Tokens of a low-detail image (and the base of every image).</summary>
    public const int BaseTokens = 85;

    /// <summary>Tokens per 512-pixel tile.</summary>
    public const int TileTokens = 170;

    /// <summary>The most an image can cost: 768×2048 after scaling is 2×4 tiles.</summary>
    public const int MaxTokens = BaseTokens + (TileTokens * 8);

    private const int MaxHeaderBase64Chars = 64 * 1024 * 4 / 3;

    /// <summary>Tokens of one <c>{"type":"image_url","image_url":{…}}</c> part.</summary>
    public static int Count(JsonElement imageUrl)
    {
        string? url = null;
        string? detail = null;
        if (imageUrl.ValueKind == JsonValueKind.Object)
        {
            if (imageUrl.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String)
            {
                url = u.GetString();
            }

            if (imageUrl.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String)
            {
                detail = d.GetString();
            }
        }
        else if (imageUrl.ValueKind == JsonValueKind.String)
        {
            url = imageUrl.GetString();
        }

        if (detail == "low")
        {
            return BaseTokens;
        }

        return url is not null && TryReadDimensions(url, out int width, out int height) ? ForDimensions(width, height) : MaxTokens;
    }

    /// <summary>The high-detail cost of a <paramref name="width"/>×<paramref name="height"/> image.</summary>
    public static int ForDimensions(int width, int height)
    {
        if (width <= 0 || height <= 0)
        {
            return MaxTokens;
        }

        double w = width, h = height;
        double fit = Math.Min(1.0, 2048.0 / Math.Max(w, h));
        w *= fit;
        h *= fit;
        double shortest = Math.Min(w, h);
        if (shortest > 768)
        {
            w *= 768 / shortest;
            h *= 768 / shortest;
        }

        int tiles = (int)Math.Ceiling(w / 512) * (int)Math.Ceiling(h / 512);
        return BaseTokens + (TileTokens * tiles);
    }

    private static bool TryReadDimensions(string url, out int width, out int height)
    {
        width = height = 0;
        int comma = url.IndexOf(',', StringComparison.Ordinal);
        if (!url.StartsWith("data:", StringComparison.Ordinal) || comma < 0 || !url.AsSpan(0, comma).EndsWith(";base64", StringComparison.Ordinal))
        {
            return false;
        }

        return TryReadBase64Dimensions(url.AsSpan(comma + 1), out width, out height);
    }

    /// <summary>
    /// Reads the width and height from the header of a base64-encoded PNG, GIF or JPEG, decoding at most 64 KiB of it;
    /// false when the header cannot be read.
    /// </summary>
    public static bool TryReadBase64Dimensions(ReadOnlySpan<char> base64, out int width, out int height)
    {
        width = height = 0;
        base64 = base64[..(Math.Min(base64.Length, MaxHeaderBase64Chars) & ~3)];
        byte[] header = new byte[base64.Length / 4 * 3];
        if (!Convert.TryFromBase64Chars(base64, header, out int length))
        {
            return false;
        }

        var bytes = header.AsSpan(0, length);
        return TryPng(bytes, out width, out height) || TryGif(bytes, out width, out height) || TryJpeg(bytes, out width, out height);
    }

    private static bool TryPng(ReadOnlySpan<byte> b, out int width, out int height)
    {
        width = height = 0;
        if (b.Length < 24 || !b.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return false;
        }

        width = BinaryPrimitives.ReadInt32BigEndian(b[16..]);
        height = BinaryPrimitives.ReadInt32BigEndian(b[20..]);
        return width > 0 && height > 0;
    }

    private static bool TryGif(ReadOnlySpan<byte> b, out int width, out int height)
    {
        width = height = 0;
        if (b.Length < 10 || !(b.StartsWith("GIF87a"u8) || b.StartsWith("GIF89a"u8)))
        {
            return false;
        }

        width = BinaryPrimitives.ReadUInt16LittleEndian(b[6..]);
        height = BinaryPrimitives.ReadUInt16LittleEndian(b[8..]);
        return width > 0 && height > 0;
    }

    private static bool TryJpeg(ReadOnlySpan<byte> b, out int width, out int height)
    {
        width = height = 0;
        if (b.Length < 4 || b[0] != 0xFF || b[1] != 0xD8)
        {
            return false;
        }

        int i = 2;
        while (i + 9 < b.Length)
        {
            if (b[i] != 0xFF)
            {
                return false;
            }

            byte marker = b[i + 1];
            int segment = BinaryPrimitives.ReadUInt16BigEndian(b[(i + 2)..]);
            bool startOfFrame = marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC);
            if (startOfFrame)
            {
                height = BinaryPrimitives.ReadUInt16BigEndian(b[(i + 5)..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(b[(i + 7)..]);
                return width > 0 && height > 0;
            }

            i += 2 + segment;
        }

        return false;
    }
}
