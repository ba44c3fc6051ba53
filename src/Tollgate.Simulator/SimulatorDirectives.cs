using System.Globalization;
using System.Text.RegularExpressions;

namespace Tollgate.Simulator;

/// <summary>
/// The <c>[[sim:NAME]]</c> and <c>[[sim:NAME=VALUE]]</c> directives written anywhere in a prompt, which shape the
/// simulated reply or make it misbehave on purpose. An unknown directive or a bad value is a 400, so a typo in a
/// test fails loudly instead of being ignored.
/// </summary>
internal sealed partial record SimulatorDirectives
{
    /// <summary>No directive at all.</summary>
    public static SimulatorDirectives None { get; } = new();

    /// <summary><c>tokens=N</c>: the exact number of words per choice.</summary>
    public int? Tokens { get; init; }

    /// <summary><c>rate_limit</c>: a 429 with <c>Retry-After: 7</c>; not billed.</summary>
    public bool RateLimit { get; init; }

    /// <summary><c>error</c>: a 500; not billed.</summary>
    public bool Error { get; init; }

    /// <summary><c>hang</c>: no answer until the request is cancelled.</summary>
    public bool Hang { get; init; }

    /// <summary><c>cut=K</c>: abort the connection after K content tokens (non-stream: after half the body).</summary>
    public int? Cut { get; init; }

    /// <summary><c>no_usage</c>: report no usage, yet bill.</summary>
    public bool NoUsage { get; init; }

    /// <summary><c>garbage</c>: a 200 JSON response whose body is not JSON; not billed.</summary>
    public bool Garbage { get; init; }

    /// <summary>
    /// <c>failed</c>: a Responses API reply ends <c>failed</c> (<c>error.code: "server_error"</c>; a stream's final event is
    /// <c>response.failed</c>) with its output and usage, and is billed that usage; other endpoints ignore it.
    /// </summary>
    public bool Failed { get; init; }

    /// <summary><c>ignore_max_tokens</c>: generate the uncapped length whatever the request's cap.</summary>
    public bool IgnoreMaxTokens { get; init; }

    /// <summary><c>hold=NAME</c>: wait at barrier gate NAME before responding.</summary>
    public string? Hold { get; init; }

    /// <summary>
    /// <c>pause=K:NAME</c>: in a stream, wait at barrier gate NAME before content piece K (from 0), after the time per
    /// token; so a test can act while a stream is known to be mid-way, whatever the machine's speed.
    /// </summary>
    public SimulatorPause? Pause { get; init; }

    /// <summary><c>cached=N</c>: report N prompt tokens as cached (at most the prompt).</summary>
    public int Cached { get; init; }

    /// <summary><c>reasoning=N</c>: add N unseen reasoning tokens to the completion.</summary>
    public int Reasoning { get; init; }

    /// <summary>
    /// <c>hosted_calls=N</c>: a Responses API reply makes N calls of the hosted tools offered (in turn), at most
    /// <c>max_tool_calls</c>; without it, one call of each hosted tool offered.
    /// </summary>
    public int? HostedCalls { get; init; }

    /// <summary>
    /// <c>call=NAME</c>, <c>call=NAME {JSON}</c> and <c>say=TEXT</c>, in order: a script of turns. The request's turn
    /// (assistant messages since the message that carries the script) picks the step: a call to tool NAME with those
    /// arguments (or arguments generated from the tool's schema), or the answer TEXT. Past the last step, the model
    /// answers as usual.
    /// </summary>
    public IReadOnlyList<SimulatorStep> Script { get; init; } = [];

    /// <summary>Whether <paramref name="text"/> carries a script step directive.</summary>
    public static bool HasScript(string text) =>
        text.Contains("[[sim:call=", StringComparison.Ordinal) || text.Contains("[[sim:say=", StringComparison.Ordinal);
    /// <summary><c>cache_write=N</c>: report N prompt tokens as written to the cache for five minutes (Messages only).</summary>
    public int CacheWrite5m { get; init; }

    /// <summary><c>cache_write_1h=N</c>: report N prompt tokens as written to the cache for an hour (Messages only).</summary>
    public int CacheWrite1h { get; init; }

    /// <summary>
    /// <c>first=N</c>: the faults (<c>rate_limit</c>, <c>error</c>, <c>hang</c>, <c>cut</c>, <c>garbage</c>) apply only
    /// to the first N calls that carry the same <c>x-client-request-id</c>, counted across every simulated upstream of
    /// the process; later calls (a gateway's retries and fallbacks) are answered normally.
    /// </summary>
    public int? First { get; init; }

    /// <summary>These directives without their faults (see <see cref="First"/>).</summary>
    public SimulatorDirectives WithoutFaults() => this with { RateLimit = false, Error = false, Hang = false, Cut = null, Garbage = false, Failed = false, First = null };

    /// <summary><c>once=NAME</c>: the faults apply to the first request carrying NAME only; later ones are answered normally.</summary>
    public string? Once { get; init; }

    /// <summary>Reads every directive in <paramref name="text"/>; false with a message when one is unknown or malformed.</summary>
    public static bool TryParse(string text, out SimulatorDirectives directives, out string? error)
    {
        directives = None;
        error = null;
        if (!text.Contains("[[sim:", StringComparison.Ordinal))
        {
            return true;
        }

        foreach (Match match in DirectivePattern().Matches(text))
        {
            string name = match.Groups["name"].Value;
            string? value = match.Groups["value"].Success ? match.Groups["value"].Value : null;
            var next = Apply(directives, name, value);
            if (next is null)
            {
                error = $"Invalid simulator directive '{match.Value}'.";
                return false;
            }

            directives = next;
        }

        return true;
    }

    private static SimulatorDirectives? Apply(SimulatorDirectives d, string name, string? value) => (name, value) switch
    {
        ("rate_limit", null) => d with { RateLimit = true },
        ("error", null) => d with { Error = true },
        ("hang", null) => d with { Hang = true },
        ("no_usage", null) => d with { NoUsage = true },
        ("garbage", null) => d with { Garbage = true },
        ("failed", null) => d with { Failed = true },
        ("ignore_max_tokens", null) => d with { IgnoreMaxTokens = true },
        ("hold", { Length: > 0 } gate) => d with { Hold = gate },
        ("once", { Length: > 0 } once) => d with { Once = once },
        ("pause", { Length: > 0 } pause) when SimulatorPause.TryParse(pause) is { } p => d with { Pause = p },
        ("tokens", _) when TryCount(value, out int n) => d with { Tokens = n },
        ("cut", _) when TryCount(value, out int n) => d with { Cut = n },
        ("cached", _) when TryCount(value, out int n) => d with { Cached = n },
        ("reasoning", _) when TryCount(value, out int n) => d with { Reasoning = n },
        ("hosted_calls", _) when TryCount(value, out int n) => d with { HostedCalls = n },
        ("say", { Length: > 0 } text) => d with { Script = [.. d.Script, new SimulatorStep(null, null, text)] },
        ("call", { Length: > 0 } call) when SimulatorStep.TryParseCall(call) is { } step => d with { Script = [.. d.Script, step] },
        ("cache_write", _) when TryCount(value, out int n) => d with { CacheWrite5m = n },
        ("cache_write_1h", _) when TryCount(value, out int n) => d with { CacheWrite1h = n },
        ("first", _) when TryCount(value, out int n) => d with { First = n },
        _ => null,
    };

    private static bool TryCount(string? value, out int count) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out count);

    [GeneratedRegex(@"\[\[sim:(?<name>[^\]=]*)(?:=(?<value>(?:(?!\]\]).)*))?\]\]", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex DirectivePattern();
}
