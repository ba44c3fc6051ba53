using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;

namespace Tollgate.Simulator;

/// <summary>A response the simulated provider stored: its final body and what its request billed.</summary>
internal sealed record SimulatorStoredResponse(string Id, long PromptTokens, long CompletionTokens, byte[] Body)
{
    /// <summary>The input a request continuing it carries: its input and its output.</summary>
    public long ChainTokens => PromptTokens + CompletionTokens;
}

/// <summary>
/// The responses the simulated provider keeps (Responses API, unless <c>store: false</c>), in memory: for
/// <c>GET</c>/<c>DELETE /v1/responses/{id}</c>, <c>POST /v1/responses/{id}/cancel</c> and <c>previous_response_id</c>,
/// whose request is billed the stored chain (the previous input and output) as input.
/// </summary>
internal sealed class SimulatorStoredResponses
{
    private readonly ConcurrentDictionary<string, SimulatorStoredResponse> _responses = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SimulatorBackgroundRun> _running = new(StringComparer.Ordinal);

    /// <summary>Stores the final state of <paramref name="call"/>.</summary>
    public void Store(SimulatorCall call) => Store(call, SimulatorResponseStatus.Final(call), includeUsage: true);

    /// <summary>Keeps <paramref name="run"/>, a background response, as running until <see cref="Finish"/>.</summary>
    public void Start(SimulatorBackgroundRun run) => _running[run.Call.CompletionId] = run;

    /// <summary>The background response <paramref name="id"/> while it runs, or null.</summary>
    public SimulatorBackgroundRun? FindRunning(string id) => _running.GetValueOrDefault(id);

    /// <summary>Stores the final state of background response <paramref name="run"/> (<paramref name="status"/>) and ends its run.</summary>
    public void Finish(SimulatorBackgroundRun run, string status)
    {
        var call = run.Call;
        // A cancelled response generated nothing: its chain is its prompt.
        Store(call, status, includeUsage: !call.Directives.NoUsage);
        _running.TryRemove(call.CompletionId, out _);
    }

    /// <summary>The stored response <paramref name="id"/>, or null.</summary>
    public SimulatorStoredResponse? Find(string id) => _responses.GetValueOrDefault(id);

    private void Store(SimulatorCall call, string status, bool includeUsage)
    {
        var body = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(body))
        {
            SimulatorJson.WriteResponse(json, call, status, includeUsage);
        }

        long completion = status == SimulatorResponseStatus.Cancelled ? 0 : call.Plan.CompletionTokens;
        _responses[call.CompletionId] = new SimulatorStoredResponse(call.CompletionId, call.Plan.PromptTokens, completion, body.WrittenSpan.ToArray());
    }

    /// <summary>Deletes <paramref name="id"/>; false when there was none.</summary>
    public bool Delete(string id) => _responses.TryRemove(id, out _);
}
