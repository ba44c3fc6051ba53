namespace Tollgate.Simulator;

/// <summary>
/// The names of <c>[[sim:once=NAME]]</c> already used: the first request carrying a name gets its faults, every later
/// one is answered normally — so identical requests can fail the first time and succeed after. Thread-safe.
/// </summary>
internal sealed class SimulatorOnce
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>
    /// <paramref name="directives"/> as they apply to this request: unchanged without <c>once</c> or for the first
    /// request carrying its name, else without their faults (error, rate limit, garbage, hang, cut, no usage, ignored cap).
    /// </summary>
    public SimulatorDirectives Apply(SimulatorDirectives directives)
    {
        if (directives.Once is not { } name)
        {
            return directives;
        }

        lock (_lock)
        {
            if (_used.Add(name))
            {
                return directives;
            }
        }

        // The faults first=N knows (a rate limit, an error, a hang, a cut, garbage), and the quieter ones too.
        return directives.WithoutFaults() with { NoUsage = false, IgnoreMaxTokens = false };
    }
}
