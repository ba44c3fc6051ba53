using Microsoft.Extensions.Primitives;

namespace Tollgate.Proxy;

/// <summary>
/// The directives of a caller's <c>Cache-Control</c> request header that the response cache honours:
/// <c>no-cache</c> (do not answer from the cache; the fresh answer may be stored) and <c>no-store</c> (neither look up
/// nor store). Other directives are ignored; names are matched in any letter case, values after <c>=</c> ignored.
/// </summary>
/// <param name="NoCache">The caller sent <c>no-cache</c>.</param>
/// <param name="NoStore">The caller sent <c>no-store</c>.</param>
internal readonly record struct CacheControlDirectives(bool NoCache, bool NoStore)
{
    /// <summary>Reads every <c>Cache-Control</c> header value.</summary>
    public static CacheControlDirectives Read(StringValues values)
    {
        bool noCache = false, noStore = false;
        foreach (string? value in values)
        {
            foreach (var part in (value ?? "").AsSpan().Split(','))
            {
                var directive = value.AsSpan(part).Trim();
                int equals = directive.IndexOf('=');
                var name = (equals >= 0 ? directive[..equals] : directive).TrimEnd();
                noCache |= name.Equals("no-cache", StringComparison.OrdinalIgnoreCase);
                noStore |= name.Equals("no-store", StringComparison.OrdinalIgnoreCase);
            }
        }

        return new CacheControlDirectives(noCache, noStore);
    }
}
