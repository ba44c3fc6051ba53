using System.Buffers;
using System.Text.Json;
using Tollgate.Tokenization;

namespace Tollgate.Simulator;

/// <summary>
/// The generation core shared by the in-process handler and the Kestrel endpoints: reads a request, applies its
/// directives, writes the response to an <see cref="ISimulatorResponse"/> and settles the bill.
/// </summary>
/// <remarks>
/// Billing on cancellation: a client that goes away after its request was accepted (while held, waiting for the
/// first token, or mid-stream) is billed the whole planned generation with <c>Completed=false</c>, because a real
/// provider keeps generating after a disconnect. A <c>[[sim:hang]]</c> request that is cancelled is billed its
/// prompt only. Rate limits, server errors, garbage and bad requests are never billed.
/// </remarks>
internal sealed class SimulatorResponder(
    TimeProvider timeProvider,
    SimulatorLatency latency,
    Func<string, string?> encodingForModel,
    SimulatorBilling billing,
    SimulatorBarrier barrier,
    SimulatorCallCounter calls,
    SimulatorStoredResponses stored,
    SimulatorOnce once)
{
    /// <summary>Serves one request to <paramref name="kind"/>; throws <see cref="OperationCanceledException"/> when cancelled.</summary>
    public async Task ServeAsync(
        SimulatorEndpointKind kind,
        ReadOnlyMemory<byte> body,
        string? clientRequestId,
        ISimulatorResponse response,
        CancellationToken cancellationToken)
    {
        string requestId = SimulatorIds.NewRequestId();
        if (kind == SimulatorEndpointKind.Models)
        {
            await SendJsonAsync(response, new(200, SimulatorResponseHead.Json, requestId), SimulatorJson.WriteModels, cancellationToken);
            return;
        }

        bool anthropic = SimulatorRequest.IsAnthropic(kind);
        if (!SimulatorRequest.TryParse(kind, body, CounterFor, out var request, out var error))
        {
            await SendErrorAsync(response, requestId, error!, cancellationToken, anthropic);
            return;
        }

        if (kind == SimulatorEndpointKind.MessagesCountTokens)
        {
            // Counting is free, as at Anthropic: nothing is billed.
            long tokens = request!.PromptTokens;
            await SendJsonAsync(response, new(200, SimulatorResponseHead.Json, requestId), json => SimulatorJson.WriteTokenCount(json, tokens), cancellationToken);
            return;
        }

        if (request!.PreviousResponseId is { } previousId)
        {
            if (stored.Find(previousId) is not { } previous)
            {
                await SendErrorAsync(response, requestId, SimulatorError.ResponseNotFound(previousId, "previous_response_id"), cancellationToken);
                return;
            }

            // The provider bills the stored chain as input.
            request.PromptTokens += previous.ChainTokens;
        }

        if (!SimulatorDirectives.TryParse(request.PromptText, out var directives, out string? message))
        {
            await SendErrorAsync(response, requestId, SimulatorError.BadRequest(message!), cancellationToken, anthropic);
            return;
        }

        if (directives.First is { } first && calls.Next(clientRequestId) > first)
        {
            directives = directives.WithoutFaults();
        }

        directives = once.Apply(directives);

        var call = new SimulatorCall(request, directives, clientRequestId, requestId, timeProvider.GetUtcNow().ToUnixTimeSeconds(), billing);
        if (request.Background && Generates(directives))
        {
            // Answered at once; it runs on (held, generated, or cancelled) after the create call has returned.
            var run = new SimulatorBackgroundRun(call);
            stored.Start(run);
            await SendAsync(response, new(200, SimulatorResponseHead.Json, requestId), run.Body(), cancellationToken);
            _ = Task.Run(() => run.RunAsync(barrier, latency, stored), CancellationToken.None);
            return;
        }

        try
        {
            await RespondAsync(call, response, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && Generates(directives))
        {
            if (directives.Hang)
            {
                call.SettleHang();
            }
            else
            {
                call.Settle(call.Plan.ContentTokens, completed: false);
            }

            throw;
        }
    }

    /// <summary>Serves the 404 of a route the simulator does not know.</summary>
    public static Task ServeUnknownAsync(string method, string path, ISimulatorResponse response, CancellationToken cancellationToken) =>
        SendErrorAsync(response, SimulatorIds.NewRequestId(), SimulatorError.UnknownUrl(method, path), cancellationToken);

    private static bool Generates(SimulatorDirectives directives) =>
        !directives.RateLimit && !directives.Error && !directives.Garbage;

    private async Task RespondAsync(SimulatorCall call, ISimulatorResponse response, CancellationToken cancellationToken)
    {
        var directives = call.Directives;
        if (directives.Hold is { } gate)
        {
            await barrier.HoldAsync(gate, cancellationToken);
        }

        if (directives.Hang)
        {
            await new TaskCompletionSource().Task.WaitAsync(cancellationToken);
        }

        bool anthropic = call.IsMessages;
        if (directives.RateLimit)
        {
            await SendErrorAsync(response, call.RequestId, SimulatorError.RateLimited, cancellationToken, anthropic);
        }
        else if (directives.Error)
        {
            await SendErrorAsync(response, call.RequestId, SimulatorError.ServerError, cancellationToken, anthropic);
        }
        else if (directives.Garbage)
        {
            await SendAsync(response, new(200, SimulatorResponseHead.Json, call.RequestId), SimulatorJson.Garbage.ToArray(), cancellationToken);
        }
        else
        {
            if (call.IsResponse && call.Request.Store)
            {
                // Stored before it is sent, so a client that has read it can retrieve or continue it.
                stored.Store(call);
            }

            if (call.Request.Stream)
            {
                await (call.IsResponse ? SimulatorResponsesStreaming.WriteAsync(call, response, latency, cancellationToken)
                    : anthropic ? SimulatorMessagesStreaming.WriteAsync(call, response, latency, cancellationToken)
                    : SimulatorStreaming.WriteAsync(call, response, latency, cancellationToken));
            }
            else
            {
                await WriteWholeAsync(call, response, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Serves <c>GET</c> / <c>DELETE /v1/responses/{id}</c> and <c>POST /v1/responses/{id}/cancel</c>. A background
    /// response still running is returned as it is now; a cancel (or a delete) stops it and returns (or deletes) it as
    /// it ended.
    /// </summary>
    public async Task ServeStoredAsync(string method, string id, bool cancel, ISimulatorResponse response, CancellationToken cancellationToken)
    {
        string requestId = SimulatorIds.NewRequestId();
        if (stored.FindRunning(id) is { } run)
        {
            if (method == "GET")
            {
                await SendAsync(response, new(200, SimulatorResponseHead.Json, requestId), run.Body(), cancellationToken);
                return;
            }

            run.Cancel();
            await run.Ended.WaitAsync(cancellationToken);
        }

        await ServeEndedAsync(method, id, cancel, requestId, response, cancellationToken);
    }

    private Task ServeEndedAsync(string method, string id, bool cancel, string requestId, ISimulatorResponse response, CancellationToken cancellationToken)
    {
        var found = stored.Find(id);
        if (found is null)
        {
            return SendErrorAsync(response, requestId, SimulatorError.ResponseNotFound(id, null), cancellationToken);
        }

        if (method == "DELETE" && !cancel)
        {
            stored.Delete(id);
            return SendJsonAsync(response, new(200, SimulatorResponseHead.Json, requestId), json =>
            {
                json.WriteStartObject();
                json.WriteString("id", id);
                json.WriteString("object", "response.deleted");
                json.WriteBoolean("deleted", true);
                json.WriteEndObject();
            }, cancellationToken);
        }

        // A retrieval, or the cancel of a response that has already ended (it stays as it was).
        return SendAsync(response, new(200, SimulatorResponseHead.Json, requestId), found.Body, cancellationToken);
    }

    private async Task WriteWholeAsync(SimulatorCall call, ISimulatorResponse response, CancellationToken cancellationToken)
    {
        await latency.BeforeWholeReplyAsync(call.Plan.ContentTokens, cancellationToken);
        var body = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(body))
        {
            if (call.Request.Kind == SimulatorEndpointKind.Embeddings)
            {
                SimulatorJson.WriteEmbeddings(json, call, !call.Directives.NoUsage);
            }
            else if (call.IsMessages)
            {
                SimulatorJson.WriteMessage(json, call, !call.Directives.NoUsage);
            }
            else if (call.IsResponse)
            {
                SimulatorJson.WriteResponse(json, call, SimulatorResponseStatus.Final(call), !call.Directives.NoUsage);
            }
            else
            {
                SimulatorJson.WriteCompletion(json, call, !call.Directives.NoUsage);
            }
        }

        var writer = response.Start(new SimulatorResponseHead(200, SimulatorResponseHead.Json, call.RequestId, ContentLength: body.WrittenCount));
        if (call.Directives.Cut is not null)
        {
            // A whole reply is generated before it is sent, so a cut on the way still bills all of it.
            await writer.WriteAsync(body.WrittenMemory[..(body.WrittenCount / 2)], cancellationToken);
            call.Settle(call.Plan.ContentTokens, completed: false);
            response.Abort();
            return;
        }

        // Settled before the body is released, so a client that has read it finds the bill.
        call.Settle(call.Plan.ContentTokens, completed: true);
        await writer.WriteAsync(body.WrittenMemory, cancellationToken);
        await response.CompleteAsync();
    }

    private static Task SendErrorAsync(ISimulatorResponse response, string requestId, SimulatorError error, CancellationToken cancellationToken, bool anthropic = false)
    {
        int? retryAfter = error.StatusCode == 429 ? 7 : null;
        var head = new SimulatorResponseHead(error.StatusCode, SimulatorResponseHead.Json, requestId, retryAfter);
        return anthropic
            ? SendJsonAsync(response, head, json => SimulatorJson.WriteAnthropicError(json, error), cancellationToken)
            : SendJsonAsync(response, head, json => SimulatorJson.WriteError(json, error), cancellationToken);
    }

    private static Task SendJsonAsync(ISimulatorResponse response, SimulatorResponseHead head, Action<Utf8JsonWriter> write, CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(body))
        {
            write(json);
        }

        return SendAsync(response, head, body.WrittenMemory, cancellationToken);
    }

    private static async Task SendAsync(ISimulatorResponse response, SimulatorResponseHead head, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var writer = response.Start(head with { ContentLength = body.Length });
        await writer.WriteAsync(body, cancellationToken);
        await response.CompleteAsync();
    }

    private TokenCounter CounterFor(string model) =>
        TokenCounterRegistry.Shared.Get(encodingForModel(model) ?? TokenEncoding.O200kBase);
}
