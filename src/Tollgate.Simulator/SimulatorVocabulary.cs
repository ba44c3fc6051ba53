namespace Tollgate.Simulator;

/// <summary>
/// The words the simulated model speaks. Each is one token, with its leading space, in both <c>o200k_base</c> and
/// <c>cl100k_base</c>, and they never merge across word boundaries, so a reply of N words is exactly N tokens
/// (a unit test checks both facts with the real tokenizers).
/// </summary>
internal static class SimulatorVocabulary
{
    private static readonly string[] _words =
    [
        " the", " of", " and", " to", " in", " is", " that", " for", " it", " as", " with", " was",
        " on", " be", " at", " by", " this", " not", " are", " but", " from", " or", " have", " an",
        " they", " which", " one", " were", " all", " there", " would", " their", " we", " been", " has", " when",
        " will", " more", " no", " if", " out", " so", " what", " up", " about", " into", " than", " them",
        " can", " only", " other", " new", " some", " could", " time", " these", " two", " may", " then", " do",
        " first", " any", " now", " such", " like", " our", " over", " even", " most", " made", " after", " also",
        " did", " many", " before", " must", " through", " back", " years", " where", " much", " way", " well", " down",
        " should", " because", " each", " just", " those", " how", " too", " little", " state", " good", " very", " make",
        " world", " still", " own", " see", " work", " long", " get", " here", " between", " both", " life", " being",
        " under", " never", " day", " same", " another", " know", " while", " last", " might", " great", " old", " year",
        " off", " come", " since", " go", " came", " right", " used", " take", " three", " house", " system", " group",
        " number", " part", " problem", " fact", " point", " program", " company", " question", " case", " week", " home", " water",
        " room", " area", " money", " story", " month", " lot", " study", " book", " job", " word", " business", " side",
        " kind", " head", " service", " power", " hour", " game", " line", " end", " member", " car", " city", " name",
        " team", " minute", " idea", " body", " information", " school", " face", " level", " office", " door", " health", " art",
        " history", " result", " change", " morning", " reason", " research", " moment", " air", " force", " open", " small", " large",
        " next", " early", " young", " important", " few", " public", " able", " late",
    ];

    /// <summary>The 200 words.</summary>
    public static IReadOnlyList<string> Words => _words;

    /// <summary>The word at <paramref name="index"/> modulo the vocabulary size.</summary>
    public static string Pick(ulong index) => _words[(int)(index % (ulong)_words.Length)];
}
