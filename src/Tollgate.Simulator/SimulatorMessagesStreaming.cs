namespace Tollgate.Simulator;

/// <summary>
/// Streams a message the way Anthropic does: <c>message_start</c> (with the input usage), <c>content_block_start</c>,
/// a <c>ping</c>, one <c>content_block_delta</c> per word, <c>content_block_stop</c>, <c>message_delta</c> (the stop
/// reason and the cumulative output) and <c>message_stop</c>, each a named event. <c>[[sim:cut=K]]</c> drops the
/// connection after K word deltas; <c>[[sim:no_usage]]</c> leaves the usage out of both events that carry it.
/// </summary>
internal static class SimulatorMessagesStreaming
{
    /// <summary>Streams <paramref name="call"/> to <paramref name="response"/> and settles its bill.</summary>
    public static async Task WriteAsync(SimulatorCall call, ISimulatorResponse response, SimulatorLatency latency, CancellationToken cancellationToken)
    {
        long? declaredLength = call.Directives.Cut is null ? null : SimulatorResponseHead.CutStreamLength;
        var writer = response.Start(new SimulatorResponseHead(200, SimulatorResponseHead.EventStream, call.RequestId, ContentLength: declaredLength));
        using var events = new SimulatorEventWriter(writer);
        bool usage = !call.Directives.NoUsage;
        SimulatorJson.WriteMessageStart(events.BeginEvent("message_start"), call, usage);
        bool connected = await events.EndEventAsync(cancellationToken);
        if (connected)
        {
            SimulatorJson.WriteContentBlockStart(events.BeginEvent("content_block_start"));
            connected = await events.EndEventAsync(cancellationToken);
        }

        if (connected)
        {
            SimulatorJson.WriteTypeOnly(events.BeginEvent("ping"), "ping");
            connected = await events.EndEventAsync(cancellationToken);
        }

        long sent = 0;
        string[] words = call.Plan.Choices[0];
        while (connected && sent < words.Length && sent != call.Directives.Cut)
        {
            await (sent == 0 ? latency.BeforeFirstTokenAsync(cancellationToken) : latency.BetweenTokensAsync(cancellationToken));
            SimulatorJson.WriteTextDelta(events.BeginEvent("content_block_delta"), words[sent]);
            sent++;
            connected = await events.EndEventAsync(cancellationToken);
        }

        if (connected && call.Directives.Cut is not null)
        {
            call.Settle(sent, completed: false);
            response.Abort();
            return;
        }

        // Settled before the closing events, so a client that has read the usage finds the bill. A client that left
        // mid-stream is billed the whole plan: the real provider keeps generating.
        call.Settle(call.Plan.ContentTokens, connected);
        if (connected)
        {
            SimulatorJson.WriteTypeOnly(events.BeginEvent("content_block_stop"), "content_block_stop", 0);
            if (await events.EndEventAsync(cancellationToken))
            {
                SimulatorJson.WriteMessageDelta(events.BeginEvent("message_delta"), call, usage);
                if (await events.EndEventAsync(cancellationToken))
                {
                    SimulatorJson.WriteTypeOnly(events.BeginEvent("message_stop"), "message_stop");
                    await events.EndEventAsync(cancellationToken);
                }
            }
        }

        await response.CompleteAsync();
    }
}
