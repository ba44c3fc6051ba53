namespace Tollgate.Tokenization;

/// <summary>Names of the token encodings a model can declare in its configuration.</summary>
public static class TokenEncoding
{
    /// <summary>The encoding of GPT-4o, GPT-4.1, o-series and GPT-5 models.</summary>
    public const string O200kBase = "o200k_base";

    /// <summary>The encoding of GPT-4, GPT-3.5 and the text-embedding-3 models.</summary>
    public const string Cl100kBase = "cl100k_base";

    /// <summary>
    /// For models whose tokenizer Tollgate does not ship (Llama, Qwen, Mistral served by vLLM or Ollama):
    /// counts with <c>cl100k_base</c> and adds the model's configured safety margin.
    /// </summary>
    public const string Approximate = "approximate";

    /// <summary>Whether <paramref name="name"/> is an encoding Tollgate understands.</summary>
    public static bool IsKnown(string? name) => name is O200kBase or Cl100kBase or Approximate;
}
