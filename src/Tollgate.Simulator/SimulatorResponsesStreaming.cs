using System.Text.Json;

namespace Tollgate.Simulator;

/// <summary>
/// Streams a Responses API reply the way OpenAI does, every event named (<c>event: type</c>) and numbered
/// (<c>sequence_number</c>): <c>response.created</c>, <c>response.in_progress</c>; for the text,
/// <c>response.output_item.added</c>, <c>response.content_part.added</c>, one <c>response.output_text.delta</c> per
/// piece, <c>response.output_text.done</c>, <c>response.content_part.done</c>, <c>response.output_item.done</c>; for
/// each function call, <c>response.output_item.added</c>, <c>response.function_call_arguments.delta</c> per piece,
/// <c>.done</c> and <c>response.output_item.done</c>; then <c>response.completed</c> (or <c>response.incomplete</c>, or
/// <c>response.failed</c> under <c>[[sim:failed]]</c>) with the usage (null under <c>[[sim:no_usage]]</c>). There is no <c>[DONE]</c>. <c>[[sim:cut=K]]</c> drops the
/// connection after K pieces.
/// </summary>
internal static class SimulatorResponsesStreaming
{
    /// <summary>Streams <paramref name="call"/> to <paramref name="response"/> and settles its bill.</summary>
    public static async Task WriteAsync(SimulatorCall call, ISimulatorResponse response, SimulatorLatency latency, CancellationToken cancellationToken)
    {
        long? declaredLength = call.Directives.Cut is null ? null : SimulatorResponseHead.CutStreamLength;
        var writer = response.Start(new SimulatorResponseHead(200, SimulatorResponseHead.EventStream, call.RequestId, ContentLength: declaredLength));
        using var events = new SimulatorEventWriter(writer);
        var stream = new Sequence(events, cancellationToken);
        bool connected = await stream.WriteAsync("response.created", json => WriteResponseEvent(json, call, SimulatorResponseStatus.InProgress))
            && await stream.WriteAsync("response.in_progress", json => WriteResponseEvent(json, call, SimulatorResponseStatus.InProgress));
        var (ok, cut, sentTokens) = connected ? await WriteOutputAsync(stream, call, latency) : (false, false, 0L);
        connected = ok;
        if (connected && cut)
        {
            call.Settle(sentTokens, completed: false);
            response.Abort();
            return;
        }

        // Settled before the final event, so a client that has read the usage finds the bill. A client that left
        // mid-stream is billed the whole plan: the real provider keeps generating.
        call.Settle(call.Plan.ContentTokens, connected);
        if (connected)
        {
            string status = SimulatorResponseStatus.Final(call);
            await stream.WriteAsync("response." + status, json => WriteResponseEvent(json, call, status));
        }

        await response.CompleteAsync();
    }

    private static void WriteResponseEvent(Utf8JsonWriter json, SimulatorCall call, string status)
    {
        json.WritePropertyName("response");
        SimulatorJson.WriteResponse(json, call, status, !call.Directives.NoUsage);
    }

    // The output items in order; stops at a cut. Returns whether the client is still there, whether the stream was
    // cut, and the tokens of the pieces sent.
    private static async Task<(bool Connected, bool Cut, long Sent)> WriteOutputAsync(Sequence stream, SimulatorCall call, SimulatorLatency latency)
    {
        var plan = call.Plan;
        string[] text = plan.Choices.Count > 0 ? plan.Choices[0] : [];
        int pieces = 0;
        int index = 0;
        for (; index < call.HostedCalls.Count; index++)
        {
            int at = index;
            if (!await stream.WriteAsync("response.output_item.added", json => ItemEvent(json, at, j => SimulatorJson.WriteHostedCallItem(j, call, at, SimulatorResponseStatus.InProgress)))
                || !await stream.WriteAsync("response.output_item.done", json => ItemEvent(json, at, j => SimulatorJson.WriteHostedCallItem(j, call, at, SimulatorResponseStatus.Completed))))
            {
                return (false, false, 0);
            }
        }

        if (text.Length > 0)
        {
            string id = SimulatorJson.MessageId(call);
            if (!await stream.WriteAsync("response.output_item.added", json => ItemEvent(json, index, j => SimulatorJson.WriteMessageItem(j, call, null, SimulatorResponseStatus.InProgress)))
                || !await stream.WriteAsync("response.content_part.added", json => PartEvent(json, id, index, "")))
            {
                return (false, false, plan.TokensOf(0, pieces));
            }

            foreach (string piece in text)
            {
                if (pieces == call.Directives.Cut)
                {
                    return (true, true, plan.TokensOf(0, pieces));
                }

                await latency.BeforePieceAsync(call, pieces, stream.Token);
                if (!await stream.WriteAsync("response.output_text.delta", json => DeltaEvent(json, id, index, piece, text: true)))
                {
                    return (false, false, plan.TokensOf(0, pieces));
                }

                pieces++;
            }

            string whole = string.Concat(text);
            if (!await stream.WriteAsync("response.output_text.done", json =>
                {
                    WriteItemRef(json, id, index);
                    json.WriteNumber("content_index", 0);
                    json.WriteString("text", whole);
                    json.WriteStartArray("logprobs");
                    json.WriteEndArray();
                })
                || !await stream.WriteAsync("response.content_part.done", json => PartEvent(json, id, index, whole))
                || !await stream.WriteAsync("response.output_item.done", json => ItemEvent(json, index, j => SimulatorJson.WriteMessageItem(j, call, whole, SimulatorResponseStatus.Completed))))
            {
                return (false, false, plan.TokensOf(0, pieces));
            }

            index++;
        }

        foreach (var toolCall in plan.CallsOf(0))
        {
            string id = SimulatorJson.FunctionCallItemId(toolCall);
            int at = index;
            if (!await stream.WriteAsync("response.output_item.added", json => ItemEvent(json, at, j => SimulatorJson.WriteFunctionCallItem(j, toolCall, "", SimulatorResponseStatus.InProgress))))
            {
                return (false, false, plan.TokensOf(0, pieces));
            }

            foreach (string piece in toolCall.Pieces)
            {
                if (pieces == call.Directives.Cut)
                {
                    return (true, true, plan.TokensOf(0, pieces));
                }

                await latency.BeforePieceAsync(call, pieces, stream.Token);
                if (!await stream.WriteAsync("response.function_call_arguments.delta", json => DeltaEvent(json, id, at, piece, text: false)))
                {
                    return (false, false, plan.TokensOf(0, pieces));
                }

                pieces++;
            }

            if (!await stream.WriteAsync("response.function_call_arguments.done", json =>
                {
                    WriteItemRef(json, id, at);
                    json.WriteString("name", toolCall.Name);
                    json.WriteString("arguments", toolCall.Arguments);
                })
                || !await stream.WriteAsync("response.output_item.done", json => ItemEvent(json, at, j => SimulatorJson.WriteFunctionCallItem(j, toolCall, toolCall.Arguments, SimulatorResponseStatus.Completed))))
            {
                return (false, false, plan.TokensOf(0, pieces));
            }

            index++;
        }

        return (true, false, plan.TokensOf(0, pieces));
    }

    private static void ItemEvent(Utf8JsonWriter json, int index, Action<Utf8JsonWriter> item)
    {
        json.WriteNumber("output_index", index);
        json.WritePropertyName("item");
        item(json);
    }

    private static void PartEvent(Utf8JsonWriter json, string id, int index, string text)
    {
        WriteItemRef(json, id, index);
        json.WriteNumber("content_index", 0);
        json.WritePropertyName("part");
        SimulatorJson.WriteTextPart(json, text);
    }

    private static void DeltaEvent(Utf8JsonWriter json, string id, int index, string piece, bool text)
    {
        WriteItemRef(json, id, index);
        if (text)
        {
            json.WriteNumber("content_index", 0);
        }

        json.WriteString("delta", piece);
        if (text)
        {
            json.WriteStartArray("logprobs");
            json.WriteEndArray();
        }
    }

    private static void WriteItemRef(Utf8JsonWriter json, string id, int index)
    {
        json.WriteString("item_id", id);
        json.WriteNumber("output_index", index);
    }

    // Writes numbered, named events: {"type": name, "sequence_number": n, …}.
    private sealed class Sequence(SimulatorEventWriter events, CancellationToken cancellationToken)
    {
        private int _next;

        public CancellationToken Token => cancellationToken;

        public ValueTask<bool> WriteAsync(string type, Action<Utf8JsonWriter> body)
        {
            var json = events.BeginEvent(type);
            json.WriteStartObject();
            json.WriteString("type", type);
            json.WriteNumber("sequence_number", _next++);
            body(json);
            json.WriteEndObject();
            return events.EndEventAsync(cancellationToken);
        }
    }
}
