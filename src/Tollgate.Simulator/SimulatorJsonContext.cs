using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tollgate.Simulator;

/// <summary>Source-generated JSON for the simulator's control routes.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SimulatorBill))]
[JsonSerializable(typeof(IReadOnlyList<SimulatorBill>))]
[JsonSerializable(typeof(SimulatorHeldCount))]
[JsonSerializable(typeof(string))]
internal sealed partial class SimulatorJsonContext : JsonSerializerContext;
