namespace Tollgate.Simulator;

/// <summary>SplitMix64: a tiny, seedable generator, so every choice a prompt leads to is reproducible.</summary>
internal struct SimulatorRandom(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The next 64 pseudo-random bits.</summary>
    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>A number in [-1, 1).</summary>
    public float NextSignedUnit() => (float)(((Next() >> 11) * (1.0 / (1UL << 53)) * 2) - 1);
}
