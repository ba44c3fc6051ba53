namespace Tollgate.Simulator;

/// <summary>
/// One accepted request: its plan, its identifiers, and its bill, which is settled exactly once — as soon as the
/// generation has been delivered (before the closing chunks, usage and <c>[DONE]</c>), so a client that has read
/// a response finds its bill.
/// </summary>
internal sealed class SimulatorCall
{
    private readonly SimulatorBilling _billing;
    private int _settled;

    public SimulatorCall(
        SimulatorRequest request,
        SimulatorDirectives directives,
        string? clientRequestId,
        string requestId,
        long created,
        SimulatorBilling billing)
    {
        Request = request;
        Directives = directives;
        Plan = SimulatorPlan.Create(request, directives);
        ClientRequestId = clientRequestId;
        RequestId = requestId;
        Created = created;
        _billing = billing;
        HostedCalls = HostedCallsOf(request, directives);
        CompletionId = (IsMessages ? "msg_sim" : IsChat ? "chatcmpl-sim" : IsResponse ? "resp_sim" : "cmpl-sim") + requestId[SimulatorIds.RequestIdPrefix.Length..];
    }

    /// <summary>The request.</summary>
    public SimulatorRequest Request { get; }

    /// <summary>Its directives.</summary>
    public SimulatorDirectives Directives { get; }

    /// <summary>What the model will say.</summary>
    public SimulatorPlan Plan { get; }

    /// <summary>The gateway's id (<c>x-client-request-id</c>).</summary>
    public string? ClientRequestId { get; }

    /// <summary>The simulator's id (<c>x-request-id</c>).</summary>
    public string RequestId { get; }

    /// <summary>Unix seconds, from the <see cref="TimeProvider"/>.</summary>
    public long Created { get; }

    /// <summary>The <c>id</c> of the completion object (<c>chatcmpl-sim…</c> or <c>cmpl-sim…</c>).</summary>
    public string CompletionId { get; }

    /// <summary>Whether this is an Anthropic message.</summary>
    public bool IsMessages => Request.Kind == SimulatorEndpointKind.Messages;

    /// <summary>Whether this is a chat completion (else a legacy text completion, embeddings or a message).</summary>
    public bool IsChat => Request.Kind == SimulatorEndpointKind.ChatCompletions;

    /// <summary>Whether this is a Responses API request (<c>/v1/responses</c>).</summary>
    public bool IsResponse => Request.Kind == SimulatorEndpointKind.Responses;

    /// <summary>
    /// The output item types of the hosted tool calls a Responses API reply makes (<c>web_search_call</c>, …), before
    /// its text: one per hosted tool offered, or <c>hosted_calls=N</c> in turn, at most <c>max_tool_calls</c>. Each is billed.
    /// </summary>
    public IReadOnlyList<string> HostedCalls { get; }

    /// <summary>Records the bill for <paramref name="contentTokens"/> words plus the planned reasoning, once.</summary>
    public void Settle(long contentTokens, bool completed) =>
        Record(contentTokens + Plan.ReasoningTokens, Plan.ReasoningTokens, completed);

    /// <summary>Records the bill of a request that hung until cancelled: the prompt was read, nothing generated.</summary>
    public void SettleHang() => Record(0, 0, completed: false);

    private void Record(long completionTokens, long reasoningTokens, bool completed)
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0)
        {
            return;
        }

        _billing.Record(new SimulatorBill(
            ClientRequestId,
            RequestId,
            Request.EndpointName,
            Request.Model,
            Request.Stream,
            Plan.PromptTokens,
            Plan.CachedTokens,
            completionTokens,
            reasoningTokens,
            Plan.Fault,
            completed,
            Plan.CacheWrite5mTokens,
            Plan.CacheWrite1hTokens,
            HostedCalls.Count));
    }

    private static string[] HostedCallsOf(SimulatorRequest request, SimulatorDirectives directives)
    {
        var tools = request.HostedTools;
        if (request.Kind != SimulatorEndpointKind.Responses || tools.Count == 0)
        {
            return [];
        }

        int count = Math.Min(directives.HostedCalls ?? tools.Count, request.MaxToolCalls ?? int.MaxValue);
        var calls = new string[Math.Max(0, count)];
        for (int i = 0; i < calls.Length; i++)
        {
            calls[i] = Tollgate.Protocol.ResponsesTools.CallItemType(tools[i % tools.Count]);
        }

        return calls;
    }
}
