namespace Tollgate.Proxy;

/// <summary>Caller- or upstream-supplied text quoted in a message or a header: shortened, never whole.</summary>
internal static class Display
{
    /// <summary><paramref name="value"/>, cut to <paramref name="max"/> characters with an ellipsis when longer.</summary>
    public static string Bounded(string? value, int max = 64) =>
        value is null ? "" : value.Length > max ? value[..max] + "…" : value;
}
