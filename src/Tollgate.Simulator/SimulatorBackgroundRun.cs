using System.Buffers;
using System.Text.Json;

namespace Tollgate.Simulator;

/// <summary>
/// A background response (Responses API, <c>background: true</c>) the simulated provider is generating: <c>queued</c>
/// while it waits (at a <c>[[sim:hold=NAME]]</c> gate, or a <c>[[sim:hang]]</c> until cancelled), <c>in_progress</c>
/// while it generates, then stored as it ended — <c>completed</c> (or <c>incomplete</c>) and billed in full, or
/// <c>cancelled</c> and billed its prompt only.
/// </summary>
internal sealed class SimulatorBackgroundRun(SimulatorCall call) : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private int _finished;
    private volatile string _status = SimulatorResponseStatus.Queued;

    public SimulatorCall Call => call;

    /// <summary>Its status while it runs: queued, then in progress.</summary>
    public string Status => _status;

    /// <summary>Completes once it has ended and its final state is stored.</summary>
    public Task Ended => _ended.Task;

    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Asks it to stop (a cancel): it ends cancelled unless it has already ended.</summary>
    public void Cancel()
    {
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It has just ended.
        }
    }

    public void Dispose() => _cancellation.Dispose();

    /// <summary>Runs it to its end, after the create call was answered.</summary>
    public async Task RunAsync(SimulatorBarrier barrier, SimulatorLatency latency, SimulatorStoredResponses stored)
    {
        var token = _cancellation.Token;
        try
        {
            if (call.Directives.Hold is { } gate)
            {
                await barrier.HoldAsync(gate, token);
            }

            if (call.Directives.Hang)
            {
                await new TaskCompletionSource().Task.WaitAsync(token);
            }

            _status = SimulatorResponseStatus.InProgress;
            await latency.BeforeWholeReplyAsync(call.Plan.ContentTokens, token);
            End(stored, SimulatorResponseStatus.Final(call));
        }
        catch (OperationCanceledException)
        {
            End(stored, SimulatorResponseStatus.Cancelled);
        }
        finally
        {
            Dispose();
        }
    }

    /// <summary>Its body while it runs: its status, no output, no usage yet.</summary>
    public byte[] Body()
    {
        var body = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(body))
        {
            SimulatorJson.WriteResponse(json, call, _status, includeUsage: true);
        }

        return body.WrittenSpan.ToArray();
    }

    // Stored before it is billed, so a client that finds the bill finds the response ended.
    private void End(SimulatorStoredResponses stored, string status)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }

        stored.Finish(this, status);
        if (status == SimulatorResponseStatus.Cancelled)
        {
            call.SettleHang();
        }
        else
        {
            call.Settle(call.Plan.ContentTokens, completed: true);
        }

        _ended.TrySetResult();
    }
}
