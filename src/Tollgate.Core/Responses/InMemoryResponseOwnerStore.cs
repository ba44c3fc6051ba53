using System.Collections.Concurrent;

namespace Tollgate.Responses;

/// <summary>The in-process <see cref="IResponseOwnerStore"/> (tests, and hosts without a database).</summary>
public sealed class InMemoryResponseOwnerStore : IResponseOwnerStore
{
    private readonly ConcurrentDictionary<string, StoredResponse> _responses = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ValueTask RecordAsync(StoredResponse response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        _responses.TryAdd(response.ResponseId, response);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<StoredResponse?> FindAsync(string responseId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_responses.GetValueOrDefault(responseId));
}
