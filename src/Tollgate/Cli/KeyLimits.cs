using Tollgate.Limits;

namespace Tollgate.Cli;

/// <summary>
/// Reads a key's overrides of plan settings (<c>--limit NAME=VALUE</c>, or an import item's <c>"limits"</c>) by the
/// rule of <see cref="KeyOverrides"/>, which the gateway applies too: an override the gateway would skip is refused
/// here with a usage error. Spaces around the <c>=</c> of a <c>NAME=VALUE</c> pair are part of the option's syntax and
/// are trimmed; the value itself is checked as written.
/// </summary>
internal static class KeyLimits
{
    /// <summary>Every name a key may override, in the order they are listed to the user.</summary>
    public static IReadOnlyList<string> Names => KeyOverrides.Names;

    /// <summary>Parses repeated <c>NAME=VALUE</c> options; an empty list gives an empty map.</summary>
    /// <exception cref="CliUsageException">A pair is malformed, a name unknown or repeated, or a value invalid.</exception>
    public static Dictionary<string, string> ParsePairs(IEnumerable<string> pairs, string source)
    {
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in pairs)
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliUsageException($"{source} must be NAME=VALUE, e.g. RequestsPerMinute=60: '{pair}'.");
            }

            Add(overrides, pair[..equals].Trim(), pair[(equals + 1)..].Trim(), source);
        }

        return overrides;
    }

    /// <summary>Validates one override and adds it under its canonical name and value.</summary>
    /// <exception cref="CliUsageException">The name is unknown or already present, or the value invalid.</exception>
    public static void Add(Dictionary<string, string> overrides, string name, string value, string source)
    {
        if (!KeyOverrides.TryParse(name, value, out var parsed, out string? error))
        {
            throw new CliUsageException($"{source}: {error}");
        }

        if (!overrides.TryAdd(parsed.Name, parsed.Value))
        {
            throw new CliUsageException($"{source}: limit {parsed.Name} is given more than once.");
        }
    }

    /// <summary>A copy of <paramref name="current"/> (none when null) with <paramref name="changes"/> set over it.</summary>
    public static Dictionary<string, string> Merge(IReadOnlyDictionary<string, string>? current, IReadOnlyDictionary<string, string> changes)
    {
        var merged = current is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(current, StringComparer.Ordinal);
        foreach (var (name, value) in changes)
        {
            // A stored name in another letter case is the same setting: the new value replaces it.
            foreach (string stale in merged.Keys.Where(k => k != name && string.Equals(k, name, StringComparison.OrdinalIgnoreCase)).ToList())
            {
                merged.Remove(stale);
            }

            merged[name] = value;
        }

        return merged;
    }

    /// <summary>The overrides as <c>NAME=VALUE</c> pairs in name order, e.g. <c>MaxN=2, RequestsPerMinute=10</c>.</summary>
    public static string Format(IReadOnlyDictionary<string, string> overrides, string separator) =>
        string.Join(separator, Sorted(overrides).Select(p => $"{p.Key}={p.Value}"));

    /// <summary>The overrides ordered by name (ordinal), for stable output.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Sorted(IReadOnlyDictionary<string, string> overrides) =>
        overrides.OrderBy(p => p.Key, StringComparer.Ordinal);
}
