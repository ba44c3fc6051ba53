namespace Tollgate.Validation;

/// <summary>The reason codes of <see cref="RepetitionVerdict.Reason"/>: stable strings for audit records and error bodies.</summary>
public static class RepetitionReasons
{
    /// <summary>The text is mostly copies of the same substring (a phrase, a character, a block of lines).</summary>
    public const string RepeatedSubstring = "repeated_substring";

    /// <summary>The text uses a tiny vocabulary over many words (shuffled or whitespace-jittered repeats).</summary>
    public const string LowDiversity = "low_diversity";

    /// <summary>The text asks the model to repeat something many times, or forever.</summary>
    public const string AmplificationRequest = "amplification_request";
}
