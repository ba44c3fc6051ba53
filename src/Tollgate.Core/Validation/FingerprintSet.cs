using System.Buffers;
using System.Numerics;

namespace Tollgate.Validation;

/// <summary>
/// A set of 64-bit hashes with a fixed limit on its size, in a pooled open-addressing table of 32-bit tags. Once
/// <see cref="IsFull"/> it ignores further hashes: the caller has learned what it needed (the text is diverse).
/// The table is kept at most three quarters full, so memory is at most about 11 bytes per allowed entry.
/// </summary>
internal struct FingerprintSet : IDisposable
{
    private uint[]? _slots;
    private int _mask;
    private int _limit;

    /// <summary>Distinct hashes added so far (two hashes with the same 32-bit tag and slot chain count once: p ≈ 2⁻³²).</summary>
    public int Count { get; private set; }

    /// <summary>Whether the set reached its limit and stopped counting.</summary>
    public readonly bool IsFull => Count >= _limit;

    public static FingerprintSet Create(int limit)
    {
        limit = Math.Max(1, limit);
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(64, (limit / 3 * 4) + 4));
        uint[] slots = ArrayPool<uint>.Shared.Rent(size);
        Array.Clear(slots, 0, size);
        return new FingerprintSet { _slots = slots, _mask = size - 1, _limit = limit };
    }

    /// <summary>Adds a well-mixed hash: its low bits pick the slot, its high 32 bits are the stored tag.</summary>
    public void Add(ulong hash)
    {
        if (Count >= _limit)
        {
            return;
        }

        uint[] slots = _slots!;
        uint tag = (uint)(hash >> 32) | 1; // 0 marks an empty slot
        int i = (int)hash & _mask;
        while (true)
        {
            uint current = slots[i];
            if (current == 0)
            {
                slots[i] = tag;
                Count++;
                return;
            }

            if (current == tag)
            {
                return;
            }

            i = (i + 1) & _mask;
        }
    }

    public void Dispose()
    {
        if (_slots is not null)
        {
            ArrayPool<uint>.Shared.Return(_slots);
            _slots = null;
        }
    }
}
