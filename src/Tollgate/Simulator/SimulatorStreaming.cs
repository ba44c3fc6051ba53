namespace Tollgate.Simulator;

/// <summary>
/// Streams a completion the way OpenAI does: a role chunk per choice (chat only), one chunk per word, a closing
/// chunk per choice, the usage chunk only when <c>stream_options.include_usage</c> asked for it, then
/// <c>[DONE]</c>. <c>[[sim:cut=K]]</c> drops the connection after K word chunks.
/// </summary>
internal static class SimulatorStreaming
{
    /// <summary>Streams <paramref name="call"/> to <paramref name="response"/> and settles its bill.</summary>
    public static async Task WriteAsync(SimulatorCall call, ISimulatorResponse response, SimulatorLatency latency, CancellationToken cancellationToken)
    {
        var writer = response.Start(new SimulatorResponseHead(200, SimulatorResponseHead.EventStream, call.RequestId));
        using var events = new SimulatorEventWriter(writer);
        var choices = call.Plan.Choices;
        bool connected = true;
        if (call.IsChat)
        {
            for (int i = 0; i < choices.Count && connected; i++)
            {
                SimulatorJson.WriteChunk(events.BeginEvent(), call, i, "assistant", string.Empty, null);
                connected = await events.EndEventAsync(cancellationToken);
            }
        }

        long sent = 0;
        int longest = choices.Count == 0 ? 0 : choices.Max(words => words.Length);
        for (int position = 0; position < longest && connected; position++)
        {
            for (int i = 0; i < choices.Count && connected; i++)
            {
                if (position >= choices[i].Length)
                {
                    continue;
                }

                if (sent == call.Directives.Cut)
                {
                    Cut(call, response, sent);
                    return;
                }

                await (sent == 0 ? latency.BeforeFirstTokenAsync(cancellationToken) : latency.BetweenTokensAsync(cancellationToken));
                SimulatorJson.WriteChunk(events.BeginEvent(), call, i, null, choices[i][position], null);
                connected = await events.EndEventAsync(cancellationToken);
                sent++;
            }
        }

        if (connected && call.Directives.Cut is not null)
        {
            Cut(call, response, sent);
            return;
        }

        for (int i = 0; i < choices.Count && connected; i++)
        {
            SimulatorJson.WriteChunk(events.BeginEvent(), call, i, null, null, call.Plan.FinishReason);
            connected = await events.EndEventAsync(cancellationToken);
        }

        if (connected && call.Request.IncludeUsage && !call.Directives.NoUsage)
        {
            SimulatorJson.WriteUsageChunk(events.BeginEvent(), call);
            connected = await events.EndEventAsync(cancellationToken);
        }

        connected = connected && await events.WriteDoneAsync(cancellationToken);

        // A client that left mid-stream is billed the whole plan: the real provider keeps generating.
        call.Settle(call.Plan.ContentTokens, connected);
        await response.CompleteAsync();
    }

    private static void Cut(SimulatorCall call, ISimulatorResponse response, long sent)
    {
        call.Settle(sent, completed: false);
        response.Abort();
    }
}
