using Tollgate.Configuration;
using Tollgate.Identity;
using Tollgate.Pricing;
using Tollgate.Protocol;
using Tollgate.Tokenization;
using Tollgate.Validation;

namespace Tollgate.Limits;

/// <summary>What admission decides on: who asks, for what, under which configuration.</summary>
/// <param name="Caller">The authenticated caller.</param>
/// <param name="Request">The parsed request.</param>
/// <param name="Model">The resolved model (authorized for the caller).</param>
/// <param name="Config">The configuration the request runs under.</param>
/// <param name="Task">The caller's task id (<c>x-tollgate-task</c>, or an agent's session id), or null.</param>
/// <param name="SourceAddress">The caller's resolved source address, or null.</param>
/// <param name="TaskSource">The header the task id came from (<c>x-tollgate-task</c> or one of the plan's <c>TaskHeaders</c>), named in refusals.</param>
/// <param name="FollowUp">A later attempt (retry or fallback) of a request an earlier attempt already counted (see <see cref="RequestDemand.FollowUp"/>).</param>
public readonly record struct AdmissionRequest(CallerIdentity Caller, ModelRequest Request, ModelDefinition Model, GatewayConfig Config, string? Task, string? SourceAddress,
    string? TaskSource = null, bool FollowUp = false);

/// <summary>Admission's decision: the admission, or the refusal; and shadow-mode refusals either way.</summary>
/// <param name="Admission">The admission, when admitted.</param>
/// <param name="Refusal">The refusal, when refused.</param>
/// <param name="ShadowRefusals">Shadow-mode limits that would have refused, described, or null.</param>
public readonly record struct AdmissionOutcome(Admission? Admission, GatewayError? Refusal, string? ShadowRefusals = null);

/// <summary>
/// In-band admission, as a function of the caller, the request's facts, the plan and the time: checks the request's
/// shape, works out its worst case (input tokens plus output cap × choices, and its cost), builds the checks of every
/// scope that applies (key, user, tenant, task, source address, global) and reserves them in one atomic step.
/// Refusals come back as values the caller can act on. Nothing here reads HTTP: the host resolves the task id and the
/// source address first.
/// </summary>
public sealed class AdmissionPolicy(IQuotaStore quotas, TaskRegistry tasks, BudgetWarnings warnings)
{
    /// <summary>The header a caller names its task with.</summary>
    public const string TaskHeader = "x-tollgate-task";

    /// <summary>Builds the input checks' matchers before the first request (their first use compiles them).</summary>
    public static void WarmUp(GatewayConfig config) => config.Repetition.WarmUp();

    /// <summary>Checks the request's shape and reserves its worst case; returns the admission or the refusal.</summary>
    public async ValueTask<AdmissionOutcome> DecideAsync(AdmissionRequest input, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var caller = input.Caller;
        var model = input.Model;
        var request = input.Request;
        var config = input.Config;
        var plan = EffectivePlans.Get(config, caller.Plan, caller.Overrides);
        if (plan is null)
        {
            return new(null, new GatewayError(403, ErrorTypes.Permission, ErrorCodes.ModelNotAllowed, $"The plan '{caller.Plan}' of this key no longer exists."));
        }

        if ((CheckShape(request, plan, config.Repetition) ?? HostedFeatures.Check(request, model, plan, caller.Plan)) is { } shapeError)
        {
            return new(null, shapeError);
        }

        // Embedding inputs are separate items, each within the context window; the plan's cap bounds their sum.
        long inputCap = model.Type == ModelTypes.Embedding ? plan.MaxInputTokens ?? long.MaxValue
            : Math.Min(plan.MaxInputTokens ?? long.MaxValue, model.ContextWindow);
        long inputTokens = UsageEstimator.CountInput(request, model, inputCap);
        if (CheckInput(inputTokens, request.Endpoint, model, plan, caller.Plan) is { } inputError)
        {
            return new(null, inputError);
        }

        var (cap, capError) = OutputCap(request, model, plan, caller.Plan, inputTokens);
        if (capError is not null)
        {
            return new(null, capError);
        }

        if (request.HasUnseenInput)
        {
            // A stored conversation or prompt adds input the gateway cannot see: reserved up to the context window
            // (input plus output), and settled to what the upstream reports.
            inputTokens = Math.Max(inputTokens, model.ContextWindow - cap);
        }

        // Input is reserved at the highest rate it can be billed at (a cache write can cost more than plain input).
        var price = model.Price with { InputMicrosPerMillion = model.Price.HighestInputMicrosPerMillion(request.CacheWrites) };
        var toolCalls = HostedFeatures.Reserve(request, model, plan);
        var demand = new RequestDemand(inputTokens, request.OutputMultiplier, price, input.FollowUp) { FeeNanos = toolCalls.FeeNanos };
        if (input.Task is not null && CheckTask(caller.KeyId, input.Task, input.TaskSource ?? TaskHeader, plan, now) is { } taskError)
        {
            // A 429 like any other: with the caller's limits (those of the refused task aside).
            var limits = LimitPlanner.BuildChecks(config, plan, caller.KeyId, caller.Tenant, caller.User, null, input.SourceAddress, demand);
            return new(null, taskError.Status == 429
                ? taskError with { Limits = await quotas.PeekAsync(limits, now, cancellationToken).ConfigureAwait(false) }
                : taskError);
        }

        var checks = LimitPlanner.BuildChecks(config, plan, caller.KeyId, caller.Tenant, caller.User, input.Task, input.SourceAddress, demand);
        LimitPlanner.AddUpstream(checks, config, model.UpstreamName, caller.Tenant, demand);
        // Unseen input is reserved as what the output cap leaves of the context window: a lower cap would leave more.
        long minOutput = plan.ClampOutputToRemaining && request.Endpoint != ApiEndpoint.Embeddings && !request.HasUnseenInput
            ? Math.Min(cap, request.MinOutputCap) : cap;
        var decision = await quotas.TryReserveAsync(checks, cap, minOutput, now, cancellationToken).ConfigureAwait(false);
        string? shadow = decision.ShadowRefusals.Count == 0 ? null
            : string.Join("; ", decision.ShadowRefusals.Select(c => $"{c.Scope.Display}: {LimitText.Describe(c)}"));
        if (!decision.Admitted)
        {
            return new(null, Refusal(decision), shadow);
        }

        try
        {
            string? capField = request.Endpoint == ApiEndpoint.Embeddings ? null
                : request.OutputCapField ?? request.Endpoint switch
                {
                    ApiEndpoint.Completions => "max_tokens",
                    ApiEndpoint.Responses => "max_output_tokens",
                    _ => model.OutputCapParameter,
                };
            bool changed = request.Endpoint != ApiEndpoint.Embeddings
                && (request.MaxCompletionTokens ?? request.MaxTokens) != decision.OutputCap;
            string? warning = warnings.Check(decision.Statuses, plan.BudgetWarningPercent);
            return new(new Admission(decision.Reservation!, decision.OutputCap, capField, changed, request.OutputMultiplier,
                decision.Statuses, shadow, warning, plan, inputTokens, demand.WorstCostNanos(decision.OutputCap)) { ToolCalls = toolCalls }, null, shadow);
        }
        catch
        {
            // Nobody owns the reservation yet: undo it rather than hold its amounts (and a concurrency slot) forever.
            await quotas.ReleaseAsync(decision.Reservation!, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Counts one request against the caller's request limits and nothing else (no tokens, no money), for a call the
    /// plan counts but that bills nothing, such as polling a stored response (<see cref="PlanOptions.CountStoredResponseCalls"/>):
    /// null when it fits, else the refusal, as for any request.
    /// </summary>
    public async ValueTask<GatewayError?> CountRequestAsync(CallerIdentity caller, ModelDefinition model, GatewayConfig config, string? sourceAddress,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        if (EffectivePlans.Get(config, caller.Plan, caller.Overrides) is not { } plan)
        {
            return new GatewayError(403, ErrorTypes.Permission, ErrorCodes.ModelNotAllowed, $"The plan '{caller.Plan}' of this key no longer exists.");
        }

        // Request counts only: a call that bills nothing is not refused by a token, money or concurrency limit (a budget
        // that settled slightly over, or the streams a key has open, must not stop it from reading what it paid for).
        var checks = LimitPlanner.BuildChecks(config, plan, caller.KeyId, caller.Tenant, caller.User, null, sourceAddress, new RequestDemand(0, 0, model.Price))
            .FindAll(c => c.Metric == Metric.Requests);
        var decision = await quotas.TryReserveAsync(checks, 0, 0, now, cancellationToken).ConfigureAwait(false);
        if (!decision.Admitted)
        {
            return Refusal(decision);
        }

        await quotas.SettleAsync(decision.Reservation!, new ActualUsage(0, 0, 0), now, CancellationToken.None).ConfigureAwait(false);
        return null;
    }

    private static GatewayError? CheckShape(ModelRequest request, PlanOptions plan, RepetitionDetector repetition)
    {
        if (Math.Max(request.N, request.BestOf) > plan.MaxN)
        {
            return GatewayError.InvalidRequest($"This plan allows at most {plan.MaxN} choices per request (n, best_of).", request.BestOf > request.N ? "best_of" : "n", ErrorCodes.ParamNotAllowed);
        }

        if (request.WantsLogprobs && !plan.AllowLogprobs)
        {
            return GatewayError.InvalidRequest("This plan does not allow 'logprobs' or 'top_logprobs'.", "logprobs", ErrorCodes.ParamNotAllowed);
        }

        if (request.HasLogitBias && !plan.AllowLogitBias)
        {
            return GatewayError.InvalidRequest("This plan does not allow 'logit_bias'.", "logit_bias", ErrorCodes.ParamNotAllowed);
        }

        if (plan.RejectRepetitiveInput && request.Endpoint != ApiEndpoint.Embeddings)
        {
            using var text = new InputTextBuffer();
            request.AppendInputText(text);
            var verdict = repetition.Inspect(text.Text);
            if (verdict.IsRepetitive)
            {
                return GatewayError.InvalidRequest(
                    $"The input is repetitive or asks for amplification ({verdict.Reason}); such requests are refused to bound consumption.",
                    request.Endpoint.InputField(), ErrorCodes.RepetitiveInput);
            }
        }

        return null;
    }

    private static GatewayError? CheckInput(long input, ApiEndpoint endpoint, ModelDefinition model, PlanOptions plan, string planName)
    {
        if (plan.MaxInputTokens is { } max && input > max)
        {
            return GatewayError.InvalidRequest($"plan {planName}: input limit {max} tokens per request, this request has more.", endpoint.InputField(), ErrorCodes.ContextLengthExceeded);
        }

        if (model.Type == ModelTypes.Chat && input >= model.ContextWindow)
        {
            return GatewayError.InvalidRequest($"This model's context window is {model.ContextWindow} tokens; the input alone fills it.", endpoint.InputField(), ErrorCodes.ContextLengthExceeded);
        }

        return null;
    }

    private static (long Cap, GatewayError? Error) OutputCap(ModelRequest request, ModelDefinition model, PlanOptions plan, string planName, long input)
    {
        if (request.Endpoint == ApiEndpoint.Embeddings)
        {
            return (0, null);
        }

        long? asked = request.MaxCompletionTokens ?? request.MaxTokens;
        string field = request.OutputCapField ?? "max_tokens";
        long planMax = Math.Min(plan.MaxOutputTokens ?? long.MaxValue, model.MaxOutputTokens);
        long cap = asked ?? plan.DefaultMaxOutputTokens ?? planMax;
        if (cap > planMax)
        {
            if (asked is not null && plan.OutputCapPolicy == OutputCapPolicies.Refuse)
            {
                return (0, GatewayError.InvalidRequest(
                    $"plan {planName}: at most {planMax} output tokens per request for '{model.Name}', requested {asked}.", field, ErrorCodes.MaxTokensTooLarge));
            }

            cap = planMax;
        }

        long room = model.ContextWindow - input;
        if (cap > room)
        {
            if (asked is not null)
            {
                return (0, GatewayError.InvalidRequest(
                    $"This model's context window is {model.ContextWindow} tokens: {input} input + {asked} output is too many.", field, ErrorCodes.ContextLengthExceeded));
            }

            cap = room;
        }

        if (cap < request.MinOutputCap)
        {
            // Extended thinking needs its budget (at least 1024) below max_tokens; a lowered cap that leaves no room is refused.
            return (0, GatewayError.InvalidRequest(
                $"plan {planName}: at most {cap} output tokens for '{model.Name}', which leaves no room for extended thinking (thinking.budget_tokens must be at least {AnthropicRequestReader.MinThinkingBudget} and below max_tokens).",
                "thinking.budget_tokens", ErrorCodes.MaxTokensTooLarge));
        }

        return (cap, null);
    }

    private GatewayError? CheckTask(string keyId, string task, string source, PlanOptions plan, DateTimeOffset now)
    {
        if (task.Length > 64 || !task.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
        {
            return GatewayError.InvalidRequest($"'{source}' names the task and must be 1-64 characters of letters, digits, '-', '_', '.', ':'.", source);
        }

        // The task ids of a key are counted per UTC day: a new one is accepted again from the next UTC midnight.
        var tomorrow = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
        return tasks.TryUse(keyId, task, plan.MaxTasksPerKey, now)
            ? null
            : new GatewayError(429, "requests", ErrorCodes.RateLimitExceeded,
                $"key {keyId}: at most {plan.MaxTasksPerKey} task ids per day; this one is new. New task ids are accepted again at {LimitText.Instant(tomorrow)}.")
            { ShouldRetry = false };
    }

    // Retry soon only when capacity returns within a minute (RefusalRetry); otherwise say not to, and when it returns.
    private static GatewayError Refusal(AdmissionDecision decision)
    {
        var check = decision.RefusedBy!;
        var retry = decision.SuggestedRetryAfter;
        var error = check.Scope.IsVisibleToCaller ? CallerRefusal(decision, check)
            : check.Scope.Kind == ScopeKind.Upstream ? UpstreamRefusal(decision)
            : GatewayRefusal(decision, check);
        return error with
        {
            RetryAfter = retry,
            ShouldRetry = retry is null ? false : null,
            Limits = decision.Statuses,
            RefusedBy = check.Scope.IsVisibleToCaller ? check : null,
        };
    }

    private static GatewayError CallerRefusal(AdmissionDecision decision, LimitCheck check)
    {
        string figures = check.Metric == Metric.Spend
            ? $"{LimitText.Describe(check)} limit ${Money.FormatDollars(check.Limit)}, requested ${Money.FormatDollars(decision.Requested)}, remaining ${Money.FormatDollars(decision.Remaining)}"
            : $"{LimitText.Describe(check)} limit {check.Limit}, requested {decision.Requested}, remaining {decision.Remaining}";
        string when = (decision.ResetsAt, decision.RetryAfter) switch
        {
            ({ } at, { } wait) when decision.SuggestedRetryAfter is null =>
                $"; capacity returns at {LimitText.Instant(at)} (in {LimitText.Duration(wait)}), do not retry before",
            (_, { } wait) => $", resets in {LimitText.Duration(wait)}",
            _ => " — this request alone is larger than the limit; lower max_tokens or the input",
        };
        string message = $"{check.Scope.Display}: {figures}{when}.";
        return check.Metric switch
        {
            Metric.Spend => new GatewayError(429, "insufficient_quota", ErrorCodes.InsufficientQuota, message),
            Metric.Concurrency => new GatewayError(429, "requests", ErrorCodes.ConcurrencyLimitExceeded, message),
            _ => new GatewayError(429, check.Metric == Metric.Requests ? "requests" : "tokens", ErrorCodes.RateLimitExceeded, message),
        };
    }

    // The provider's quota is shared by every tenant: its figures are never shown either. A model with fallbacks tries
    // them before this refusal reaches the caller.
    private static GatewayError UpstreamRefusal(AdmissionDecision decision) =>
        new(429, "requests", ErrorCodes.UpstreamQuotaExceeded, decision.SuggestedRetryAfter is not null
            ? "The provider's quota for this model is used up for the moment; retry shortly."
            : "The provider's quota for this model cannot admit a request this large; lower max_tokens or the input.");

    // Never reveal the gateway-wide figures.
    private static GatewayError GatewayRefusal(AdmissionDecision decision, LimitCheck check)
    {
        string when = decision.ResetsAt switch
        {
            null => "it cannot admit a request this large; lower max_tokens or the input",
            _ when decision.SuggestedRetryAfter is not null => "retry shortly",
            { } at => $"capacity returns at {LimitText.Instant(at)}, do not retry before",
        };
        return check.Metric switch
        {
            Metric.Spend => new GatewayError(429, "insufficient_quota", ErrorCodes.InsufficientQuota, $"The gateway has reached its spending limit for now; {when}."),
            Metric.Concurrency => new GatewayError(429, "requests", ErrorCodes.ConcurrencyLimitExceeded, $"The gateway is at capacity; {when}."),
            _ => new GatewayError(429, "requests", ErrorCodes.RateLimitExceeded, $"The gateway is at capacity; {when}."),
        };
    }
}
