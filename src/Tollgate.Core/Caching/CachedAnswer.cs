using Tollgate.Pricing;

namespace Tollgate.Caching;

/// <summary>
/// A stored answer: the whole, successful response body in the upstream protocol's plain (non-streamed) form, as the
/// upstream sent it — without the cost Tollgate adds — and the token usage the upstream reported for it. A streamed
/// answer is assembled into this form before it is stored, so one entry serves plain and streaming callers.
/// </summary>
public sealed class CachedAnswer
{
    /// <summary>Creates a stored answer; <paramref name="body"/> is kept, not copied, and must not change afterwards.</summary>
    /// <param name="body">The plain response body.</param>
    /// <param name="usage">The usage the upstream reported for it.</param>
    public CachedAnswer(ReadOnlyMemory<byte> body, TokenUsage usage)
    {
        Body = body;
        Usage = usage;
    }

    /// <summary>The plain response body, without Tollgate's cost.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The token counts the upstream reported: a hit's <c>usage</c> shows them, though a hit bills none.</summary>
    public TokenUsage Usage { get; }

    /// <summary>The size counted against <c>Cache:MaxBytes</c> and <c>Cache:MaxEntryBytes</c>.</summary>
    public int Size => Body.Length;
}
