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
        long? declaredLength = call.Directives.Cut is null ? null : SimulatorResponseHead.CutStreamLength;
        var writer = response.Start(new SimulatorResponseHead(200, SimulatorResponseHead.EventStream, call.RequestId, ContentLength: declaredLength));
        using var events = new SimulatorEventWriter(writer);
        bool connected = !call.IsChat || await WriteRolesAsync(events, call, cancellationToken);
        long sent = 0;
        if (connected)
        {
            (connected, sent) = await WriteWordsAsync(events, call, latency, cancellationToken);
        }

        if (connected && call.Directives.Cut is not null)
        {
            call.Settle(sent, completed: false);
            response.Abort();
            return;
        }

        // Settled before the closing chunks, so a client that has read the usage chunk finds the bill. A client
        // that left mid-stream is billed the whole plan: the real provider keeps generating.
        call.Settle(call.Plan.ContentTokens, connected);
        if (connected)
        {
            await WriteClosingAsync(events, call, cancellationToken);
        }

        await response.CompleteAsync();
    }

    private static async Task<bool> WriteRolesAsync(SimulatorEventWriter events, SimulatorCall call, CancellationToken cancellationToken)
    {
        for (int i = 0; i < call.Plan.Choices.Count; i++)
        {
            SimulatorJson.WriteChunk(events.BeginEvent(), call, i, "assistant", string.Empty, null);
            if (!await events.EndEventAsync(cancellationToken))
            {
                return false;
            }
        }

        return true;
    }

    // One chunk per word, choices interleaved; stops early at a cut. Returns whether the client is still there
    // and how many word chunks it was sent.
    private static async Task<(bool Connected, long Sent)> WriteWordsAsync(
        SimulatorEventWriter events, SimulatorCall call, SimulatorLatency latency, CancellationToken cancellationToken)
    {
        var choices = call.Plan.Choices;
        int longest = choices.Count == 0 ? 0 : choices.Max(words => words.Length);
        long sent = 0;
        for (int position = 0; position < longest; position++)
        {
            for (int i = 0; i < choices.Count; i++)
            {
                if (position >= choices[i].Length)
                {
                    continue;
                }

                if (sent == call.Directives.Cut)
                {
                    return (true, sent);
                }

                await (sent == 0 ? latency.BeforeFirstTokenAsync(cancellationToken) : latency.BetweenTokensAsync(cancellationToken));
                SimulatorJson.WriteChunk(events.BeginEvent(), call, i, null, choices[i][position], null);
                sent++;
                if (!await events.EndEventAsync(cancellationToken))
                {
                    return (false, sent);
                }
            }
        }

        return (true, sent);
    }

    private static async Task WriteClosingAsync(SimulatorEventWriter events, SimulatorCall call, CancellationToken cancellationToken)
    {
        for (int i = 0; i < call.Plan.Choices.Count; i++)
        {
            SimulatorJson.WriteChunk(events.BeginEvent(), call, i, null, null, call.Plan.FinishReason);
            if (!await events.EndEventAsync(cancellationToken))
            {
                return;
            }
        }

        if (call.Request.IncludeUsage && !call.Directives.NoUsage)
        {
            SimulatorJson.WriteUsageChunk(events.BeginEvent(), call);
            if (!await events.EndEventAsync(cancellationToken))
            {
                return;
            }
        }

        await events.WriteDoneAsync(cancellationToken);
    }
}
