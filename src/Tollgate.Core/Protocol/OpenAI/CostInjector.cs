using System.Buffers;
using System.Globalization;
using System.Text;

namespace Tollgate.Protocol;

/// <summary>
/// Adds the request's cost to the upstream's usage object, in place: <c>"cost_nanousd": N</c> (integer
/// nano-dollars) just before the object's closing brace. Every other byte is left as the upstream sent it.
/// </summary>
public static class CostInjector
{
    /// <summary>The name of the cost field added to a usage object.</summary>
    public const string Field = "cost_nanousd";

    /// <summary>A copy of <paramref name="json"/> with the cost added to the usage object that ends at <paramref name="usageEnd"/>.</summary>
    public static byte[] Inject(ReadOnlySpan<byte> json, int usageEnd, bool usageEmpty, long costNanos)
    {
        string insert = (usageEmpty ? "\"" : ",\"") + Field + "\":" + costNanos.ToString(CultureInfo.InvariantCulture);
        int extra = Encoding.ASCII.GetByteCount(insert);
        var result = new byte[json.Length + extra];
        json[..usageEnd].CopyTo(result);
        Encoding.ASCII.GetBytes(insert, result.AsSpan(usageEnd));
        json[usageEnd..].CopyTo(result.AsSpan(usageEnd + extra));
        return result;
    }

    /// <summary>An SSE event carrying <paramref name="json"/>.</summary>
    public static byte[] SseEvent(ReadOnlySpan<byte> json)
    {
        var result = new byte[json.Length + 8];
        "data: "u8.CopyTo(result);
        json.CopyTo(result.AsSpan(6));
        "\n\n"u8.CopyTo(result.AsSpan(6 + json.Length));
        return result;
    }
}
