namespace Tollgate.FunctionalTests.Fuzz;

/// <summary>One reply of the fake upstream: status, content type, the body in the parts it is flushed in, and whether
/// the connection is then cut. <see cref="TextSent"/> says whether well-formed output text reached the gateway.</summary>
internal sealed record UpstreamReply(string Case, int Status, string? ContentType, IReadOnlyList<byte[]> Parts)
{
    public bool Abort { get; init; }

    public bool TextSent { get; init; }

    public IReadOnlyList<(string Name, string Value)> Headers { get; init; } = [];

    public bool IsSse => ContentType?.StartsWith("text/event-stream", StringComparison.Ordinal) == true;

    public long Length => Parts.Sum(p => (long)p.Length);
}
