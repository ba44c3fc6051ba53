using System.IO.Pipelines;

namespace Tollgate.Simulator;

/// <summary>
/// Where the shared generation core writes a response: an in-process pipe (<see cref="SimulatorHandler"/>) or a
/// Kestrel response (<see cref="SimulatorEndpoints"/>).
/// </summary>
internal interface ISimulatorResponse
{
    /// <summary>Sets the status and headers and returns the body writer. Called once per response.</summary>
    PipeWriter Start(SimulatorResponseHead head);

    /// <summary>Drops the connection mid-body: the client's read fails.</summary>
    void Abort();

    /// <summary>Ends the body normally.</summary>
    ValueTask CompleteAsync();
}
