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

    /// <summary>Stores the final state of <paramref name="call"/>.</summary>
    public void Store(SimulatorCall call)
    {
        var body = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(body))
        {
            SimulatorJson.WriteResponse(json, call, SimulatorResponseStatus.Final(call), includeUsage: true);
        }

        _responses[call.CompletionId] = new SimulatorStoredResponse(call.CompletionId, call.Plan.PromptTokens, call.Plan.CompletionTokens, body.WrittenSpan.ToArray());
    }

    /// <summary>The stored response <paramref name="id"/>, or null.</summary>
    public SimulatorStoredResponse? Find(string id) => _responses.GetValueOrDefault(id);

    /// <summary>Deletes <paramref name="id"/>; false when there was none.</summary>
    public bool Delete(string id) => _responses.TryRemove(id, out _);
}
