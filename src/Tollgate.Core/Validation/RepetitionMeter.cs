namespace Tollgate.Validation;

/// <summary>
/// One pass over the sampled regions of a text that measures two things at once, in time linear in the characters
/// read and memory bounded by the limits given:
/// <list type="bullet">
/// <item>shingles: a Rabin–Karp hash (mod 2⁶¹−1, random base) of every window of <c>width</c> characters of the
/// normalized text — whitespace runs collapsed to one space, letters lower-cased — counted into a set;</item>
/// <item>words: runs of two or more non-whitespace characters, case-folded and hashed, counted into another set.</item>
/// </list>
/// Each set stops at the size past which its ratio can no longer cross its threshold; once both have, the pass ends.
/// </summary>
internal ref struct RepetitionMeter
{
    private readonly RepetitionHashing _hashing;
    private readonly Span<char> _ring;
    private FingerprintSet _shingles;
    private FingerprintSet _words;
    private readonly bool _countWords;

    private ulong _hash;
    private int _filled;
    private int _ringPosition;
    private bool _lastWasSpace;
    private ulong _wordHash;
    private int _wordLength;

    public RepetitionMeter(RepetitionHashing hashing, Span<char> ring, int shingleLimit, int wordLimit)
    {
        _hashing = hashing;
        _ring = ring;
        _shingles = FingerprintSet.Create(shingleLimit);
        _countWords = wordLimit > 0;
        _words = FingerprintSet.Create(_countWords ? wordLimit : 1);
    }

    /// <summary>Complete windows read.</summary>
    public long Windows { get; private set; }

    /// <summary>Normalized characters read.</summary>
    public long NormalizedChars { get; private set; }

    /// <summary>Words of two or more characters read.</summary>
    public long Words { get; private set; }

    public readonly int DistinctWindows => _shingles.Count;

    public readonly int DistinctWords => _words.Count;

    /// <summary>Whether both measures have seen enough distinct values to call the text diverse.</summary>
    public readonly bool Decided => _shingles.IsFull && (_words.IsFull || !_countWords);

    /// <summary>Reads one region; windows and words do not run across regions.</summary>
    public void Read(ReadOnlySpan<char> region)
    {
        _hash = 0;
        _filled = 0;
        _ringPosition = 0;
        _lastWasSpace = true; // drops the region's leading whitespace
        _wordHash = _hashing.WordSeed;
        _wordLength = 0;

        for (int i = 0; i < region.Length; i++)
        {
            char c = region[i];
            if (c < 0x80 ? c is ' ' or (>= '\t' and <= '\r') : char.IsWhiteSpace(c))
            {
                EndWord();
                if (_lastWasSpace)
                {
                    continue;
                }

                _lastWasSpace = true;
                c = ' ';
            }
            else
            {
                c = c < 0x80 ? (char)(c is >= 'A' and <= 'Z' ? c | 0x20 : c) : char.ToLowerInvariant(c);
                _lastWasSpace = false;
                _wordHash = (_wordHash ^ c) * RepetitionHashing.WordPrime;
                _wordLength++;
            }

            Push(c);
            if (Decided)
            {
                return;
            }
        }

        EndWord();
    }

    private void Push(char c)
    {
        NormalizedChars++;
        if (_shingles.IsFull)
        {
            return;
        }

        ulong hash = RepetitionHashing.AddMod(RepetitionHashing.MulMod(_hash, _hashing.Base), c);
        if (_filled == _ring.Length)
        {
            hash = RepetitionHashing.SubMod(hash, RepetitionHashing.MulMod(_ring[_ringPosition], _hashing.BaseToWidth));
        }
        else
        {
            _filled++;
        }

        _hash = hash;
        _ring[_ringPosition] = c;
        if (++_ringPosition == _ring.Length)
        {
            _ringPosition = 0;
        }

        if (_filled == _ring.Length)
        {
            Windows++;
            _shingles.Add(RepetitionHashing.Mix(hash));
        }
    }

    private void EndWord()
    {
        // Once the set is full the ratio is decided; counting on would only dilute the reported value.
        if (_wordLength >= 2 && _countWords && !_words.IsFull)
        {
            Words++;
            _words.Add(RepetitionHashing.Mix(_wordHash));
        }

        _wordHash = _hashing.WordSeed;
        _wordLength = 0;
    }

    public void Dispose()
    {
        _shingles.Dispose();
        _words.Dispose();
    }
}
