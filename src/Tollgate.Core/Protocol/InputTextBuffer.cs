using System.Buffers;
using System.Text.Json;

namespace Tollgate.Protocol;

/// <summary>
/// The text a caller sent (message contents, text parts, prompts, instructions), gathered for the input checks into
/// one buffer rented from the shared pool: each JSON string is decoded in place (<see cref="JsonStrings"/>), one line
/// per string, and the whole is cut at <see cref="MaxChars"/>. Return the buffer with <see cref="Dispose"/>.
/// </summary>
public sealed class InputTextBuffer : IDisposable
{
    private char[] _chars;
    private int _length;

    /// <summary>Creates an empty buffer that keeps at most <paramref name="maxChars"/> characters.</summary>
    public InputTextBuffer(int maxChars)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxChars);
        MaxChars = maxChars;
        _chars = ArrayPool<char>.Shared.Rent(Math.Min(maxChars, 1024));
    }

    /// <summary>The most characters kept: what comes after is dropped.</summary>
    public int MaxChars { get; }

    /// <summary>Whether <see cref="MaxChars"/> characters are already kept (anything appended now is dropped).</summary>
    public bool IsFull => _length >= MaxChars;

    /// <summary>The text gathered so far.</summary>
    public ReadOnlySpan<char> Text => _chars.AsSpan(0, _length);

    /// <summary>Appends the text of <paramref name="value"/>, a JSON string, and a line feed, as far as they fit.</summary>
    public void AppendLine(JsonElement value)
    {
        if (IsFull)
        {
            return;
        }

        int max = JsonStrings.MaxLength(value);
        Reserve(max + 1);
        int written = JsonStrings.Decode(value, _chars.AsSpan(_length));
        _chars[_length + written] = '\n';
        _length = Math.Min(MaxChars, _length + written + 1);
    }

    /// <inheritdoc />
    public override string ToString() => Text.ToString();

    /// <summary>Returns the buffer to the pool; the text cannot be read after.</summary>
    public void Dispose()
    {
        var chars = _chars;
        _chars = [];
        _length = 0;
        if (chars.Length > 0)
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    private void Reserve(int more)
    {
        ObjectDisposedException.ThrowIf(_chars.Length == 0 && MaxChars > 0, this);
        if (_length + more <= _chars.Length)
        {
            return;
        }

        var larger = ArrayPool<char>.Shared.Rent(Math.Max(_length + more, _chars.Length * 2));
        _chars.AsSpan(0, _length).CopyTo(larger);
        ArrayPool<char>.Shared.Return(_chars);
        _chars = larger;
    }
}
