namespace Tollgate.Responses;

/// <summary>
/// Durable records of which key created which stored response (<see cref="StoredResponse"/>). Recorded before the
/// response reaches its caller, so the caller's next request (a retrieval, a continuation) finds it.
/// </summary>
public interface IResponseOwnerStore
{
    /// <summary>Records <paramref name="response"/> (a second record of the same id keeps the first owner).</summary>
    ValueTask RecordAsync(StoredResponse response, CancellationToken cancellationToken);

    /// <summary>The record of <paramref name="responseId"/>, or null.</summary>
    ValueTask<StoredResponse?> FindAsync(string responseId, CancellationToken cancellationToken);
}
