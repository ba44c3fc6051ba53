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

    // One chunk per piece (a word, a piece of text, a piece of a tool call's arguments, after the call's head),
    // choices interleaved; stops early at a cut. Returns whether the client is still there and the tokens of the
    // pieces it was sent.
    private static async Task<(bool Connected, long Sent)> WriteWordsAsync(
        SimulatorEventWriter events, SimulatorCall call, SimulatorLatency latency, CancellationToken cancellationToken)
    {
        var plan = call.Plan;
        var choices = plan.Choices;
        int longest = 0;
        var sentPieces = new int[choices.Count];
        for (int i = 0; i < choices.Count; i++)
        {
            longest = Math.Max(longest, plan.PieceCount(i));
        }

        long sent = 0;
        for (int position = 0; position < longest; position++)
        {
            for (int i = 0; i < choices.Count; i++)
            {
                if (position >= plan.PieceCount(i))
                {
                    continue;
                }

                if (sent == call.Directives.Cut)
                {
                    return (true, Tokens(plan, sentPieces));
                }

                await latency.BeforePieceAsync(call, sent, cancellationToken);
                if (!await WritePieceAsync(events, call, i, position, cancellationToken))
                {
                    return (false, Tokens(plan, sentPieces));
                }

                sent++;
                sentPieces[i]++;
            }
        }

        return (true, Tokens(plan, sentPieces));
    }

    private static long Tokens(SimulatorPlan plan, int[] sentPieces)
    {
        long total = 0;
        for (int i = 0; i < sentPieces.Length; i++)
        {
            total += plan.TokensOf(i, sentPieces[i]);
        }

        return total;
    }

    // Piece `position` of choice `choice`: a piece of its text, or of a tool call's arguments (the call's head first).
    private static async Task<bool> WritePieceAsync(SimulatorEventWriter events, SimulatorCall call, int choice, int position, CancellationToken cancellationToken)
    {
        string[] text = call.Plan.Choices[choice];
        if (position < text.Length)
        {
            SimulatorJson.WriteChunk(events.BeginEvent(), call, choice, null, text[position], null);
            return await events.EndEventAsync(cancellationToken);
        }

        int piece = position - text.Length;
        var toolCalls = call.Plan.CallsOf(choice);
        for (int index = 0; index < toolCalls.Count; index++)
        {
            var toolCall = toolCalls[index];
            if (piece >= toolCall.Pieces.Length)
            {
                piece -= toolCall.Pieces.Length;
                continue;
            }

            if (piece == 0)
            {
                SimulatorJson.WriteToolCallChunk(events.BeginEvent(), call, choice, index, toolCall, head: true, string.Empty);
                if (!await events.EndEventAsync(cancellationToken))
                {
                    return false;
                }
            }

            SimulatorJson.WriteToolCallChunk(events.BeginEvent(), call, choice, index, toolCall, head: false, toolCall.Pieces[piece]);
            return await events.EndEventAsync(cancellationToken);
        }

        return true;
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
