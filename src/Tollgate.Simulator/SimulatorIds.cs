using System.Globalization;

namespace Tollgate.Simulator;

/// <summary>Makes the simulator's <c>req_sim_…</c> request ids: unique across engines and processes.</summary>
internal static class SimulatorIds
{
    /// <summary>The prefix of every simulator request id.</summary>
    public const string RequestIdPrefix = "req_sim_";

    /// <summary>A fresh id.</summary>
    public static string NewRequestId() =>
        RequestIdPrefix + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)[..24];
}
