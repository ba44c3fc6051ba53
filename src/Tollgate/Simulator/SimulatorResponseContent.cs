namespace Tollgate.Simulator;

/// <summary>The body of an in-process response: a stream over the pipe that tells the exchange when it is disposed.</summary>
internal sealed class SimulatorResponseContent(Stream body, SimulatorHandlerExchange exchange) : StreamContent(body)
{
    private int _disposed;

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            exchange.OnContentDisposed();
        }
    }
}
