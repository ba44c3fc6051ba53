using System.Buffers;
using System.Globalization;

namespace Tollgate.Protocol;

/// <summary>
/// Adds the request's cost to the upstream's usage object, in place: <c>"cost_nanousd": N</c> (integer
/// nano-dollars) just before the object's closing brace. Every other byte is left as the upstream sent it.
/// </summary>
public static class CostInjector
{
    /// <summary>The name of the cost field added to a usage object.</summary>
    public const string Field = "cost_nanousd";

    // ,"cost_nanousd": (without its comma after a usage object's first member).
    private static readonly byte[] s_memberAfterOthers = System.Text.Encoding.ASCII.GetBytes(",\"" + Field + "\":");

    /// <summary>A copy of <paramref name="json"/> with the cost added to the usage object that ends at <paramref name="usageEnd"/>.</summary>
    public static byte[] Inject(ReadOnlySpan<byte> json, int usageEnd, bool usageEmpty, long costNanos)
    {
        // The field is formatted on the stack: a long is at most 20 characters.
        Span<byte> insert = stackalloc byte[s_memberAfterOthers.Length + 20];
        ReadOnlySpan<byte> name = usageEmpty ? s_memberAfterOthers.AsSpan(1) : s_memberAfterOthers;
        name.CopyTo(insert);
        costNanos.TryFormat(insert[name.Length..], out int digits, provider: CultureInfo.InvariantCulture);
        insert = insert[..(name.Length + digits)];
        var result = new byte[json.Length + insert.Length];
        json[..usageEnd].CopyTo(result);
        insert.CopyTo(result.AsSpan(usageEnd));
        json[usageEnd..].CopyTo(result.AsSpan(usageEnd + insert.Length));
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
