using Tollgate.Configuration;
using Tollgate.Protocol;

namespace Tollgate.Limits;

/// <summary>
/// What the Responses API can ask for beyond what the gateway sees (issue 8): a stored <c>conversation</c>, a stored
/// <c>prompt</c> template, hosted tools with per-call fees. Each is allowed only when the caller's plan allows it and,
/// for a hosted tool, the model prices its calls; otherwise 400 <c>param_not_allowed</c> names the field and says what
/// the operator must set. An allowed request is reserved at its worst case: its hidden input up to the context window
/// (by admission), every tool call it may make at the highest fee (<see cref="Reserve"/>).
/// </summary>
public static class HostedFeatures
{
    /// <summary>Null when the plan and the model allow everything the request asks for; else the refusal.</summary>
    public static GatewayError? Check(ModelRequest request, ModelDefinition model, PlanOptions plan, string planName)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        if (request.HasConversation && !plan.AllowConversations)
        {
            return NotAllowed("conversation",
                $"plan {planName} does not allow stored conversations ('conversation'): their input is stored upstream out of the gateway's sight. "
                + $"The operator can allow them with Plans:{planName}:AllowConversations (each request is then reserved at the model's context window).");
        }

        if (request.HasStoredPrompt && !plan.AllowStoredPrompts)
        {
            return NotAllowed("prompt",
                $"plan {planName} does not allow stored prompt templates ('prompt'): their input is stored upstream out of the gateway's sight. "
                + $"The operator can allow them with Plans:{planName}:AllowStoredPrompts (each request is then reserved at the model's context window).");
        }

        foreach (var tool in request.HostedTools)
        {
            if (!plan.HostedTools.Contains(tool.Type, StringComparer.Ordinal))
            {
                return NotAllowed(tool.Param,
                    $"The hosted tool '{tool.Type}' is not allowed by plan {planName}. The operator can allow it with Plans:{planName}:HostedTools "
                    + $"and price its calls with Models:{model.Name}:Prices:ToolCalls:{tool.Type}.");
            }

            if (!model.ToolCallPrices.TryGetFee(tool.Type, out _))
            {
                return NotAllowed(tool.Param,
                    $"The hosted tool '{tool.Type}' has per-call fees that model '{model.Name}' does not price, so they cannot be reserved. "
                    + $"The operator must set Models:{model.Name}:Prices:ToolCalls:{tool.Type} (dollars per call).");
            }
        }

        if (CallsTools(request) && request.MaxToolCalls is { } asked && asked > plan.MaxToolCalls)
        {
            return NotAllowed("max_tool_calls", $"plan {planName}: at most {plan.MaxToolCalls} hosted tool calls per request, requested {asked}.");
        }

        return null;
    }

    /// <summary>
    /// The tool calls to reserve: none for a request that offers no hosted tool and uses no stored prompt (whose
    /// template may offer its own); else its <c>max_tool_calls</c> (or the plan's <c>MaxToolCalls</c>, then sent
    /// upstream), each at the highest fee of the tools it may call — for a stored prompt, of any tool the model prices.
    /// </summary>
    public static ToolCallReservation Reserve(ModelRequest request, ModelDefinition model, PlanOptions plan)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        if (!CallsTools(request))
        {
            return default;
        }

        long fee = request.HasStoredPrompt ? model.ToolCallPrices.HighestMicros : 0;
        foreach (var tool in request.HostedTools)
        {
            if (model.ToolCallPrices.TryGetFee(tool.Type, out long micros))
            {
                fee = Math.Max(fee, micros);
            }
        }

        return new ToolCallReservation(request.MaxToolCalls ?? plan.MaxToolCalls, fee, request.MaxToolCalls is null);
    }

    private static bool CallsTools(ModelRequest request) => request.HostedTools.Count > 0 || request.HasStoredPrompt;

    private static GatewayError NotAllowed(string param, string message) =>
        GatewayError.InvalidRequest(message, param, ErrorCodes.ParamNotAllowed);
}
