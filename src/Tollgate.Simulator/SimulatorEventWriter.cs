using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;

namespace Tollgate.Simulator;

/// <summary>Frames server-sent events (<c>data: {json}\n\n</c>) on a body writer and flushes after each one.</summary>
internal sealed class SimulatorEventWriter(PipeWriter writer) : IDisposable
{
    private readonly Utf8JsonWriter _json = new(writer);

    /// <summary>Starts an event; write one JSON value to the returned writer, then call <see cref="EndEventAsync"/>.</summary>
    public Utf8JsonWriter BeginEvent()
    {
        writer.Write("data: "u8);
        _json.Reset();
        return _json;
    }

    /// <summary>Starts a named event (<c>event: NAME</c>, as Anthropic's streams and the Responses API frame their events); then write the data as with <see cref="BeginEvent()"/>.</summary>
    public Utf8JsonWriter BeginEvent(string name)
    {
        writer.Write("event: "u8);
        writer.Write(System.Text.Encoding.UTF8.GetBytes(name));
        writer.Write("\n"u8);
        return BeginEvent();
    }

    /// <summary>Ends the event and flushes it, waiting out backpressure; false when the client has gone.</summary>
    public async ValueTask<bool> EndEventAsync(CancellationToken cancellationToken)
    {
        _json.Flush();
        writer.Write("\n\n"u8);
        var result = await writer.FlushAsync(cancellationToken);
        return !result.IsCompleted && !result.IsCanceled;
    }

    /// <summary>Writes and flushes <c>data: [DONE]</c>; false when the client has gone.</summary>
    public async ValueTask<bool> WriteDoneAsync(CancellationToken cancellationToken)
    {
        writer.Write("data: [DONE]\n\n"u8);
        var result = await writer.FlushAsync(cancellationToken);
        return !result.IsCompleted && !result.IsCanceled;
    }

    /// <inheritdoc/>
    public void Dispose() => _json.Dispose();
}
