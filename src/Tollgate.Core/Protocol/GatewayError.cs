using Tollgate.Limits;

namespace Tollgate.Protocol;

/// <summary>
/// A refusal or failure as a value: the HTTP status and the OpenAI-style <c>error</c> object fields. One writer in
/// the host turns it into the caller's protocol.
/// </summary>
/// <param name="Status">HTTP status.</param>
/// <param name="Type">OpenAI error type, e.g. <c>invalid_request_error</c>.</param>
/// <param name="Code">Machine-readable code, also the audit reason, e.g. <c>model_not_allowed</c>.</param>
/// <param name="Message">A message the caller can act on. Never holds a secret.</param>
/// <param name="Param">The request field at fault, when there is one.</param>
public sealed record GatewayError(int Status, string Type, string Code, string Message, string? Param = null)
{
    /// <summary>When retrying can succeed (sent as <c>Retry-After</c> and <c>retry-after-ms</c>); at most <see cref="RefusalRetry.MaxRetryAfter"/>.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Sent as <c>x-should-retry</c> when set (false when retrying soon cannot succeed: see <see cref="RefusalRetry"/>).</summary>
    public bool? ShouldRetry { get; init; }

    /// <summary>The caller's own limits when the refusal was decided, for the <c>x-ratelimit-*</c> and budget headers; empty when none were looked at.</summary>
    public IReadOnlyList<LimitStatus> Limits { get; init; } = [];

    /// <summary>The caller's limit that refused, reported in the headers of its metric; null when none of theirs did.</summary>
    public LimitCheck? RefusedBy { get; init; }

    /// <summary>400 for a request the gateway cannot read.</summary>
    public static GatewayError InvalidRequest(string message, string? param = null, string code = ErrorCodes.InvalidRequest) =>
        new(400, ErrorTypes.InvalidRequest, code, message, param);
}

/// <summary>OpenAI error types.</summary>
public static class ErrorTypes
{
    /// <summary>The request is wrong.</summary>
    public const string InvalidRequest = "invalid_request_error";

    /// <summary>Authentication failed.</summary>
    public const string Authentication = "authentication_error";

    /// <summary>The caller may not do this.</summary>
    public const string Permission = "permission_error";

    /// <summary>Something failed on the server side.</summary>
    public const string Server = "server_error";

    /// <summary>Temporarily unable to serve.</summary>
    public const string Unavailable = "service_unavailable_error";
}

/// <summary>Error codes Tollgate returns (and audits as the reason).</summary>
public static class ErrorCodes
{
    /// <summary>Malformed JSON, wrong types, duplicate keys, missing fields.</summary>
    public const string InvalidRequest = "invalid_request_error";

    /// <summary>No valid key.</summary>
    public const string InvalidApiKey = "invalid_api_key";

    /// <summary>The model exists but the caller's plan may not use it.</summary>
    public const string ModelNotAllowed = "model_not_allowed";

    /// <summary>No model has that name.</summary>
    public const string ModelNotFound = "model_not_found";

    /// <summary>No such route.</summary>
    public const string NotFound = "not_found";

    /// <summary>The body is over the size limit.</summary>
    public const string RequestTooLarge = "request_too_large";

    /// <summary>Not JSON, or compressed.</summary>
    public const string UnsupportedMediaType = "unsupported_media_type";

    /// <summary>The upstream failed or answered with something unusable.</summary>
    public const string UpstreamError = "upstream_error";

    /// <summary>The upstream did not answer in time.</summary>
    public const string UpstreamTimeout = "upstream_timeout";

    /// <summary>The audit ledger cannot be written, so nothing is admitted.</summary>
    public const string LedgerUnavailable = "ledger_unavailable";

    /// <summary>The gateway is shutting down.</summary>
    public const string ShuttingDown = "shutting_down";

    /// <summary>
    /// The gateway shed the request (503, <c>Retry-After: 1</c>): its queue for a concurrency slot was full, or the
    /// wait ran out. Each protocol's writer gives it that protocol's type: OpenAI's <c>service_unavailable_error</c>,
    /// Anthropic's <c>overloaded_error</c>.
    /// </summary>
    public const string Overloaded = "overloaded";

    /// <summary>A request or token rate limit refused.</summary>
    public const string RateLimitExceeded = "rate_limit_exceeded";

    /// <summary>Too many requests in flight.</summary>
    public const string ConcurrencyLimitExceeded = "concurrency_limit_exceeded";

    /// <summary>A budget is spent for its window.</summary>
    public const string InsufficientQuota = "insufficient_quota";

    /// <summary>The input is over the plan's or the model's limit.</summary>
    public const string ContextLengthExceeded = "context_length_exceeded";

    /// <summary>The output cap asked for is over the plan's limit.</summary>
    public const string MaxTokensTooLarge = "max_tokens_too_large";

    /// <summary>The input is repetitive or asks for amplification.</summary>
    public const string RepetitiveInput = "repetitive_input";

    /// <summary>A parameter the plan does not allow.</summary>
    public const string ParamNotAllowed = "param_not_allowed";

    /// <summary>A background response that is still running cannot be deleted (its bill is not known yet); cancel it first.</summary>
    public const string BackgroundInProgress = "background_in_progress";

    /// <summary>The upstream is rate limiting the gateway.</summary>
    public const string UpstreamRateLimited = "upstream_rate_limited";

    /// <summary>The upstream's circuit breaker is open: it failed too often lately, so requests to it are paused.</summary>
    public const string UpstreamUnavailable = "upstream_unavailable";

    /// <summary>The provider's own quota for the upstream (<c>Upstreams:NAME:Limits</c>) is used up for now.</summary>
    public const string UpstreamQuotaExceeded = "upstream_quota_exceeded";

    /// <summary>The upstream refused the request as invalid (its message is passed on).</summary>
    public const string UpstreamRejectedRequest = "upstream_rejected_request";

    /// <summary>The model's upstream does not speak the protocol of the endpoint called, and no translation reaches one it does.</summary>
    public const string ProtocolNotSupported = "protocol_not_supported";

    /// <summary>A field of the request that has no equivalent in the protocol its upstream speaks (a translated request).</summary>
    public const string ParamNotSupported = "param_not_supported";

    /// <summary>An <c>anthropic-beta</c> that changes the model's prices, which its configured prices do not cover.</summary>
    public const string BetaNotAllowed = "beta_not_allowed";
}
