using Tollgate.Configuration;

namespace Tollgate.Simulator;

/// <summary>
/// A deterministic, OpenAI-compatible fake model: the faithful upstream of every functional test, able to
/// misbehave on purpose through <c>[[sim:…]]</c> directives in the prompt. One per process; thread-safe.
/// Serve it in process with <see cref="CreateHandler"/> or over HTTP with <see cref="SimulatorEndpoints.MapSimulator"/>.
/// </summary>
public sealed class SimulatorEngine
{
    /// <summary>Creates the simulated model.</summary>
    /// <param name="timeProvider">The clock for latency and <c>created</c> timestamps.</param>
    /// <param name="latency">How slowly the model answers.</param>
    /// <param name="encodingForModel">The token encoding of a model id (null result: <c>o200k_base</c>).</param>
    /// <param name="calls">The call counter of <c>[[sim:first=N]]</c>, shared with other engines of the process; a new one when null.</param>
    public SimulatorEngine(TimeProvider timeProvider, SimulatorLatencyOptions latency, Func<string, string?>? encodingForModel = null,
        SimulatorCallCounter? calls = null)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(latency);
        Responder = new SimulatorResponder(
            timeProvider,
            new SimulatorLatency(timeProvider, latency, Barrier),
            encodingForModel ?? (static _ => null),
            Billing,
            Barrier,
            calls ?? new SimulatorCallCounter(),
            new SimulatorStoredResponses(),
            new SimulatorOnce());
    }

    /// <summary>What the simulated provider billed.</summary>
    public SimulatorBilling Billing { get; } = new();

    /// <summary>The gates that <c>[[sim:hold=NAME]]</c> requests wait at.</summary>
    public SimulatorBarrier Barrier { get; } = new();

    internal SimulatorResponder Responder { get; }

    /// <summary>An in-process upstream for an <see cref="HttpClient"/>; give it a base address such as <c>http://simulator/v1/</c>.</summary>
    public HttpMessageHandler CreateHandler() => new SimulatorHandler(Responder);
}
