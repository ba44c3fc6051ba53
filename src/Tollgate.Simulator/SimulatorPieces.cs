using Tollgate.Tokenization;

namespace Tollgate.Simulator;

/// <summary>
/// Splits text the model says that is not made of vocabulary words (JSON, a scripted answer, tool arguments) into
/// the pieces a stream sends: its tokens, as the model's tokenizer cuts it (<see cref="TokenCounter.Split"/>). What a
/// piece counts is what it bills, so a cut stream bills exactly the tokens sent.
/// </summary>
internal static class SimulatorPieces
{
    /// <summary>The pieces of <paramref name="text"/> and their tokens, at most <paramref name="tokenCap"/> tokens in all.</summary>
    public static (string[] Pieces, int[] Tokens, bool Truncated) Split(string text, TokenCounter counter, long tokenCap = long.MaxValue)
    {
        var pieces = new List<string>();
        var tokens = new List<int>();
        long total = 0;
        foreach (var (piece, count) in counter.Split(text))
        {
            if (total + count > tokenCap)
            {
                return ([.. pieces], [.. tokens], true);
            }

            pieces.Add(piece);
            tokens.Add(count);
            total += count;
        }

        return ([.. pieces], [.. tokens], false);
    }
}
