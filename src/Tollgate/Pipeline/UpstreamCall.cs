using Tollgate.Configuration;
using Tollgate.Protocol;
using Tollgate.Proxy;
using Tollgate.Upstreams;

namespace Tollgate.Pipeline;

/// <summary>
/// A forwarded request whose upstream answered with headers: the response, its body (read with the upstream's idle
/// timeout), and the deadline that bounds it. The caller leaving does not cancel it — the provider bills the
/// generation anyway — but shortens the deadline to <c>Gateway:AbandonedStreamUsageWait</c>, so the gateway keeps
/// reading for a bounded time to learn what was billed.
/// </summary>
internal sealed class UpstreamCall : IAsyncDisposable
{
    private readonly UpstreamLease _lease;
    private readonly HttpRequestMessage _message;
    private readonly HttpResponseMessage _response;
    private readonly CancellationTokenSource _deadline;
    private readonly CancellationTokenRegistration _onAbort;

    public UpstreamCall(UpstreamLease lease, HttpRequestMessage message, HttpResponseMessage response, CancellationTokenSource deadline,
        CancellationTokenRegistration onAbort, UpstreamBody body, UpstreamOptions options, IUpstreamProtocol protocol, TimeSpan abandonWait)
    {
        _lease = lease;
        _message = message;
        _response = response;
        _deadline = deadline;
        _onAbort = onAbort;
        Body = body;
        Options = options;
        Protocol = protocol;
        AbandonWait = abandonWait;
    }

    public UpstreamBody Body { get; }

    public UpstreamOptions Options { get; }

    public IUpstreamProtocol Protocol { get; }

    public TimeSpan AbandonWait { get; }

    /// <summary>When the upstream's <c>TotalTimeout</c> ends the call, as a <see cref="System.Diagnostics.Stopwatch"/> timestamp; 0 for none.</summary>
    public long TotalDeadline { get; init; }

    /// <summary>
    /// Whether the call's deadline fired while it has a <c>TotalTimeout</c>: past the headers the deadline is the total
    /// timeout unless the caller left or the gateway is stopping (which the reader tells apart).
    /// </summary>
    public bool PastTotalTimeout => TotalDeadline != 0 && _deadline.IsCancellationRequested;

    /// <summary>The response's Content-Length, when it sent one.</summary>
    public long? ContentLength => _response.Content.Headers.ContentLength;

    /// <summary>Whether the upstream answered with a stream.</summary>
    public bool IsEventStream => _response.Content.Headers.ContentType?.MediaType == "text/event-stream";

    /// <summary>The caller left: keep reading at most <see cref="AbandonWait"/> more.</summary>
    public void CallerLeft()
    {
        var wait = AbandonWait;
        if (TotalDeadline != 0)
        {
            // Never later than the call's total timeout.
            var rest = System.Diagnostics.Stopwatch.GetElapsedTime(System.Diagnostics.Stopwatch.GetTimestamp(), TotalDeadline);
            wait = rest < wait ? (rest > TimeSpan.Zero ? rest : TimeSpan.FromTicks(1)) : wait;
        }

        TryCancelAfter(_deadline, wait);
    }

    public async ValueTask DisposeAsync()
    {
        await _onAbort.DisposeAsync().ConfigureAwait(false);
        await Body.DisposeAsync().ConfigureAwait(false);
        _response.Dispose();
        _message.Dispose();
        _deadline.Dispose();
        _lease.Dispose();
    }

    internal static void TryCancelAfter(CancellationTokenSource source, TimeSpan delay)
    {
        try
        {
            source.CancelAfter(delay);
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
