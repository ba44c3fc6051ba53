namespace Tollgate.Simulator;

/// <summary>A tool call the simulated model makes: its id, the tool, and its JSON arguments as streamed pieces.</summary>
/// <param name="Id">The call id (<c>call_sim…</c>).</param>
/// <param name="Name">The tool's name.</param>
/// <param name="Pieces">The arguments, in the pieces a stream sends them in.</param>
/// <param name="Tokens">The tokens of each piece.</param>
internal sealed record SimulatorToolCall(string Id, string Name, string[] Pieces, int[] Tokens)
{
    /// <summary>The whole arguments text.</summary>
    public string Arguments => string.Concat(Pieces);
}
