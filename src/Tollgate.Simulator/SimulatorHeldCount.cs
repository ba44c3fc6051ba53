namespace Tollgate.Simulator;

/// <summary>The body of <c>GET /_simulator/held/{gate}</c>.</summary>
/// <param name="Waiting">Requests held at the gate now.</param>
internal sealed record SimulatorHeldCount(int Waiting);
