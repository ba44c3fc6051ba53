namespace Tollgate.Protocol;

/// <summary>
/// Assembles a stream's events into the upstream protocol's plain answer, the form the response cache stores (so a
/// streamed miss serves plain and streaming callers alike). Made by <see cref="IUpstreamProtocol.AssembleStream"/>;
/// one per stream.
/// </summary>
public interface IStreamAnswerAssembler
{
    /// <summary>Takes one event's data, in the order the events arrived.</summary>
    void Add(ReadOnlySpan<byte> data);

    /// <summary>
    /// The assembled answer once the stream ended: null when it may not be stored — an error event, a content-filtered
    /// choice, a choice without its finish, no usage, a field the assembler does not understand, or more than the
    /// size it was allowed.
    /// </summary>
    byte[]? Finish();
}
