namespace Tollgate.Simulator;

/// <summary>
/// Streams a message the way Anthropic does: <c>message_start</c> (with the input usage), <c>content_block_start</c>,
/// a <c>ping</c>, one <c>content_block_delta</c> per word, <c>content_block_stop</c>, then for each tool call a
/// <c>tool_use</c> block whose input arrives in <c>input_json_delta</c> pieces, <c>message_delta</c> (the stop
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
        var plan = call.Plan;
        string[] words = plan.Choices[0];
        var toolCalls = plan.CallsOf(0);
        bool text = words.Length > 0 || toolCalls.Count == 0;
        SimulatorJson.WriteMessageStart(events.BeginEvent("message_start"), call, usage);
        bool connected = await events.EndEventAsync(cancellationToken);
        if (connected && text)
        {
            SimulatorJson.WriteContentBlockStart(events.BeginEvent("content_block_start"));
            connected = await events.EndEventAsync(cancellationToken);
        }

        if (connected)
        {
            SimulatorJson.WriteTypeOnly(events.BeginEvent("ping"), "ping");
            connected = await events.EndEventAsync(cancellationToken);
        }

        // One delta per piece: the text's words, then each tool call's input, block by block. The cut counts pieces.
        int sent = 0;
        int block = text ? 0 : -1;
        for (int piece = 0; connected && piece < plan.PieceCount(0) && sent != call.Directives.Cut; piece++)
        {
            await latency.BeforePieceAsync(call, sent, cancellationToken);
            if (piece < words.Length)
            {
                SimulatorJson.WriteTextDelta(events.BeginEvent("content_block_delta"), words[piece]);
            }
            else
            {
                var (toolCall, offset) = ToolCallAt(toolCalls, piece - words.Length);
                if (offset == 0)
                {
                    // The previous block ends and this call's block starts.
                    if (block >= 0)
                    {
                        SimulatorJson.WriteTypeOnly(events.BeginEvent("content_block_stop"), "content_block_stop", block);
                        if (!(connected = await events.EndEventAsync(cancellationToken)))
                        {
                            break;
                        }
                    }

                    block++;
                    SimulatorJson.WriteToolUseBlockStart(events.BeginEvent("content_block_start"), block, toolCall);
                    if (!(connected = await events.EndEventAsync(cancellationToken)))
                    {
                        break;
                    }
                }

                SimulatorJson.WriteInputJsonDelta(events.BeginEvent("content_block_delta"), block, toolCall.Pieces[offset]);
            }

            sent++;
            connected = await events.EndEventAsync(cancellationToken);
        }

        if (connected && call.Directives.Cut is not null)
        {
            call.Settle(plan.TokensOf(0, sent), completed: false);
            response.Abort();
            return;
        }

        // Settled before the closing events, so a client that has read the usage finds the bill. A client that left
        // mid-stream is billed the whole plan: the real provider keeps generating.
        call.Settle(plan.ContentTokens, connected);
        if (connected)
        {
            SimulatorJson.WriteTypeOnly(events.BeginEvent("content_block_stop"), "content_block_stop", Math.Max(block, 0));
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

    // The tool call that stream piece `index` (counted over the calls' input pieces) belongs to, and its offset in it.
    private static (SimulatorToolCall Call, int Offset) ToolCallAt(IReadOnlyList<SimulatorToolCall> toolCalls, int index)
    {
        foreach (var toolCall in toolCalls)
        {
            if (index < toolCall.Pieces.Length)
            {
                return (toolCall, index);
            }

            index -= toolCall.Pieces.Length;
        }

        throw new ArgumentOutOfRangeException(nameof(index));
    }
}
