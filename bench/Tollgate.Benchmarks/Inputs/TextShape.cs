namespace Tollgate.Benchmarks.Inputs;

/// <summary>The kinds of text a caller can send, ordinary and adversarial.</summary>
public enum TextShape
{
    /// <summary>Random lowercase ASCII letters and nothing else: one pre-token as long as the text.</summary>
    Letters,

    /// <summary>One character repeated (<c>aaaa…</c>).</summary>
    Repeated,

    /// <summary>
    /// Runs of 64–4096 characters of one kind — CJK ideographs, emoji (surrogate pairs), or Latin letters with
    /// combining marks — with no whitespace.
    /// </summary>
    Unicode,

    /// <summary>Base64 of random bytes, no line breaks.</summary>
    Base64,

    /// <summary>English prose: sentences of common words, punctuation and paragraph breaks.</summary>
    Prose,
}
