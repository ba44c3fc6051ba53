namespace Tollgate.Limits;

/// <summary>
/// What one admitted request holds until it is settled: the handle an <see cref="IQuotaStore"/> gives out with an
/// admission and takes back to settle or release it. A store uses it as it is or derives its own type to carry what
/// it needs to settle (the in-memory store keeps the amount held per limit); a store accepts only handles it made.
/// </summary>
public class Reservation
{
    /// <summary>Makes a handle.</summary>
    /// <param name="id">A unique id; journaled with the request's lease, so a crash leaves a lease to settle conservatively.</param>
    /// <param name="at">When it was made.</param>
    /// <param name="outputCap">The output cap reserved for.</param>
    public Reservation(string id, DateTimeOffset at, long outputCap)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentOutOfRangeException.ThrowIfNegative(outputCap);
        Id = id;
        At = at;
        OutputCap = outputCap;
    }

    /// <summary>A unique id (journaled, so a crash leaves a lease to settle conservatively).</summary>
    public string Id { get; }

    /// <summary>When it was made.</summary>
    public DateTimeOffset At { get; }

    /// <summary>The output cap reserved for.</summary>
    public long OutputCap { get; }
}
