using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Net.Http.Headers;

namespace Tollgate.Simulator;

/// <summary>
/// One in-process call: the response is handed to <see cref="HttpClient"/> as soon as the core starts it, and its
/// body streams through a <see cref="Pipe"/>. A cut ends the pipe and makes the body stream throw an
/// <see cref="IOException"/> once the bytes sent before it are read; disposing the response (or cancelling the
/// request) cancels the generation.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "The token source is shared by the generation and the response body; the last one out disposes it.")]
internal sealed class SimulatorHandlerExchange(HttpRequestMessage request) : ISimulatorResponse
{
    private readonly Pipe _pipe = new(new PipeOptions(useSynchronizationContext: false));
    private readonly TaskCompletionSource<HttpResponseMessage> _response = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _cancellation = new();
    private int _owners = 1;
    private int _writerDone;

    /// <summary>Completes with the response once its headers are set; cancelled or faulted when none comes.</summary>
    public Task<HttpResponseMessage> Response => _response.Task;

    /// <inheritdoc/>
    public PipeWriter Start(SimulatorResponseHead head)
    {
        Interlocked.Increment(ref _owners);
        var content = new StreamContent(new SimulatorBodyStream(_pipe.Reader, this));
        content.Headers.ContentType = new MediaTypeHeaderValue(head.ContentType) { CharSet = "utf-8" };
        content.Headers.ContentLength = head.ContentLength;
        var message = new HttpResponseMessage((System.Net.HttpStatusCode)head.StatusCode)
        {
            Content = content,
            RequestMessage = request,
        };
        message.Headers.Add(SimulatorResponseHead.RequestIdHeader, head.RequestId);
        if (head.RetryAfterSeconds is { } seconds)
        {
            message.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(seconds));
        }

        _response.TrySetResult(message);
        return _pipe.Writer;
    }

    /// <summary>Set when the response was cut: what the body stream throws after the last byte sent.</summary>
    public IOException? CutError { get; private set; }

    /// <inheritdoc/>
    public void Abort()
    {
        CutError = new IOException("The simulated upstream cut the connection.");
        CompleteWriter(null);
    }

    /// <inheritdoc/>
    public ValueTask CompleteAsync()
    {
        CompleteWriter(null);
        return ValueTask.CompletedTask;
    }

    /// <summary>Runs the core, linking <paramref name="requestToken"/> to the generation until the core ends.</summary>
    public async Task RunAsync(Func<ISimulatorResponse, CancellationToken, Task> serve, CancellationToken requestToken)
    {
        var registration = requestToken.UnsafeRegister(static state => ((SimulatorHandlerExchange)state!).Cancel(), this);
        try
        {
            await serve(this, _cancellation.Token);
            _response.TrySetException(new InvalidOperationException("The simulator produced no response."));
        }
        catch (OperationCanceledException canceled)
        {
            CompleteWriter(canceled);
            _response.TrySetCanceled(canceled.CancellationToken);
        }
        catch (Exception exception)
        {
            CompleteWriter(exception);
            _response.TrySetException(exception);
        }
        finally
        {
            await registration.DisposeAsync();
            Release();
        }
    }

    /// <summary>The client disposed the response body: stop generating.</summary>
    internal void OnBodyDisposed()
    {
        Cancel();
        Release();
    }

    private void Cancel() => _cancellation.Cancel();

    // The generation and the response body each hold the token source; the last one out disposes it.
    private void Release()
    {
        if (Interlocked.Decrement(ref _owners) == 0)
        {
            _cancellation.Dispose();
        }
    }

    private void CompleteWriter(Exception? exception)
    {
        if (Interlocked.Exchange(ref _writerDone, 1) == 0)
        {
            _pipe.Writer.Complete(exception);
        }
    }
}
