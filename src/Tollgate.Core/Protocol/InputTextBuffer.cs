using System.Buffers;
using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>
/// The text a caller sent (message contents, text parts, prompts, instructions), gathered for the input checks into
/// one buffer rented from the shared pool: each JSON string is decoded in place (<see cref="JsonStrings"/>), one line
/// per string, and the whole is cut at <see cref="MaxChars"/>. Return the buffer with <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// The buffer never grows past <see cref="MaxChars"/> and a character: a string longer than the room left is decoded
/// only as far as it fits. A buffer larger than <see cref="MaxPooledChars"/> (the text of a very large prompt) is left
/// to the garbage collector rather than kept in the shared pool.
/// </remarks>
public sealed class InputTextBuffer : IDisposable
{
    /// <summary>The bound the input checks gather a request's text under: 4 Mi characters (they sample within it).</summary>
    public const int DefaultMaxChars = 4 * 1024 * 1024;

    /// <summary>The largest buffer returned to the shared pool: 64 Ki characters.</summary>
    public const int MaxPooledChars = 64 * 1024;

    private char[] _chars;
    private int _length;
    private bool _disposed;
    private bool _cut;

    /// <summary>Creates an empty buffer that keeps at most <paramref name="maxChars"/> characters.</summary>
    public InputTextBuffer(int maxChars = DefaultMaxChars)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxChars);
        MaxChars = maxChars;
        _chars = ArrayPool<char>.Shared.Rent(Math.Min(maxChars, 1024));
    }

    /// <summary>The most characters kept: what comes after is dropped.</summary>
    public int MaxChars { get; }

    /// <summary>Whether the text reached <see cref="MaxChars"/> characters, or was cut short of a surrogate pair that did not fit (anything appended now is dropped).</summary>
    public bool IsFull => _cut || _length >= MaxChars;

    /// <summary>The text gathered so far.</summary>
    public ReadOnlySpan<char> Text => _chars.AsSpan(0, _length);

    /// <summary>Appends the text of <paramref name="value"/>, a JSON string, and a line feed, as far as they fit.</summary>
    /// <exception cref="ArgumentException"><paramref name="value"/> is not a string.</exception>
    public void AppendLine(JsonElement value)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsFull)
        {
            return;
        }

        int room = MaxChars - _length;
        int max = JsonStrings.MaxLength(value);
        if (max < room)
        {
            Reserve(max + 1);
            int written = JsonStrings.Decode(value, _chars.AsSpan(_length));
            _chars[_length + written] = '\n';
            _length += written + 1;
        }
        else
        {
            // Perhaps only a prefix fits: decoded into the room left; the line feed only after the whole text.
            Reserve(room);
            int written = JsonStrings.DecodePrefix(value, _chars.AsSpan(_length, room), out bool whole);
            _length += written;
            if (!whole)
            {
                _cut = true;
            }
            else if (_length < MaxChars)
            {
                _chars[_length++] = '\n';
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => Text.ToString();

    /// <summary>Returns the buffer to the pool; the text cannot be read after.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Return(_chars);
        _chars = [];
        _length = 0;
    }

    private static void Return(char[] chars)
    {
        if (chars.Length is > 0 and <= MaxPooledChars)
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    private void Reserve(int more)
    {
        if (_length + more <= _chars.Length)
        {
            return;
        }

        var larger = ArrayPool<char>.Shared.Rent(Math.Min(Math.Max(_length + more, _chars.Length * 2), MaxChars + 1));
        _chars.AsSpan(0, _length).CopyTo(larger);
        Return(_chars);
        _chars = larger;
    }
}
