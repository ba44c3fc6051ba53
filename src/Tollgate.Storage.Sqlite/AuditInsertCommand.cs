using Microsoft.Data.Sqlite;
using Tollgate.Audit;

namespace Tollgate.Storage.Sqlite;

/// <summary>A prepared <c>INSERT INTO audit</c> whose parameters are rebound for each record of a batch.</summary>
internal sealed class AuditInsertCommand : IAsyncDisposable
{
    private const string Sql =
        "INSERT INTO audit (ts, request_id, upstream_request_id, endpoint, key_id, tenant, user, model, upstream, decision, reason, "
        + "stream, input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, cost_nanos, usage_source, status, "
        + "upstream_status, latency_ms, upstream_latency_ms, client_aborted, task, source_address, reservation_id, output_cap, "
        + "overshoot, shadow_refusals, warning, reported_input_tokens, reported_output_tokens, usage_clamped, billing_rule, cache_write_5m_tokens, cache_write_1h_tokens, attempts, "
        + "tool_calls, tool_fee_nanos) VALUES ("
        + "$ts, $request_id, $upstream_request_id, $endpoint, $key_id, $tenant, $user, $model, $upstream, $decision, $reason, "
        + "$stream, $input_tokens, $cached_input_tokens, $output_tokens, $reasoning_tokens, $cost_nanos, $usage_source, $status, "
        + "$upstream_status, $latency_ms, $upstream_latency_ms, $client_aborted, $task, $source_address, $reservation_id, $output_cap, "
        + "$overshoot, $shadow_refusals, $warning, $reported_input_tokens, $reported_output_tokens, $usage_clamped, $billing_rule, $cache_write_5m_tokens, $cache_write_1h_tokens, $attempts, "
        + "$tool_calls, $tool_fee_nanos);";

    private readonly SqliteCommand _command;
    private readonly SqliteParameter _ts;
    private readonly SqliteParameter _requestId;
    private readonly SqliteParameter _upstreamRequestId;
    private readonly SqliteParameter _endpoint;
    private readonly SqliteParameter _keyId;
    private readonly SqliteParameter _tenant;
    private readonly SqliteParameter _user;
    private readonly SqliteParameter _model;
    private readonly SqliteParameter _upstream;
    private readonly SqliteParameter _decision;
    private readonly SqliteParameter _reason;
    private readonly SqliteParameter _stream;
    private readonly SqliteParameter _inputTokens;
    private readonly SqliteParameter _cachedInputTokens;
    private readonly SqliteParameter _outputTokens;
    private readonly SqliteParameter _reasoningTokens;
    private readonly SqliteParameter _costNanos;
    private readonly SqliteParameter _usageSource;
    private readonly SqliteParameter _status;
    private readonly SqliteParameter _upstreamStatus;
    private readonly SqliteParameter _latencyMs;
    private readonly SqliteParameter _upstreamLatencyMs;
    private readonly SqliteParameter _clientAborted;
    private readonly SqliteParameter _task;
    private readonly SqliteParameter _sourceAddress;
    private readonly SqliteParameter _reservationId;
    private readonly SqliteParameter _outputCap;
    private readonly SqliteParameter _overshoot;
    private readonly SqliteParameter _shadowRefusals;
    private readonly SqliteParameter _warning;
    private readonly SqliteParameter _reportedInputTokens;
    private readonly SqliteParameter _reportedOutputTokens;
    private readonly SqliteParameter _usageClamped;
    private readonly SqliteParameter _billingRule;
    private readonly SqliteParameter _cacheWrite5mTokens;
    private readonly SqliteParameter _cacheWrite1hTokens;
    private readonly SqliteParameter _attempts;
    private readonly SqliteParameter _toolCalls;
    private readonly SqliteParameter _toolFeeNanos;

    public AuditInsertCommand(SqliteConnection connection, SqliteTransaction transaction)
    {
        _command = connection.CreateCommand();
        _command.Transaction = transaction;
        _command.CommandText = Sql;
        _ts = Add("$ts", SqliteType.Integer);
        _requestId = Add("$request_id", SqliteType.Text);
        _upstreamRequestId = Add("$upstream_request_id", SqliteType.Text);
        _endpoint = Add("$endpoint", SqliteType.Text);
        _keyId = Add("$key_id", SqliteType.Text);
        _tenant = Add("$tenant", SqliteType.Text);
        _user = Add("$user", SqliteType.Text);
        _model = Add("$model", SqliteType.Text);
        _upstream = Add("$upstream", SqliteType.Text);
        _decision = Add("$decision", SqliteType.Text);
        _reason = Add("$reason", SqliteType.Text);
        _stream = Add("$stream", SqliteType.Integer);
        _inputTokens = Add("$input_tokens", SqliteType.Integer);
        _cachedInputTokens = Add("$cached_input_tokens", SqliteType.Integer);
        _outputTokens = Add("$output_tokens", SqliteType.Integer);
        _reasoningTokens = Add("$reasoning_tokens", SqliteType.Integer);
        _costNanos = Add("$cost_nanos", SqliteType.Integer);
        _usageSource = Add("$usage_source", SqliteType.Integer);
        _status = Add("$status", SqliteType.Integer);
        _upstreamStatus = Add("$upstream_status", SqliteType.Integer);
        _latencyMs = Add("$latency_ms", SqliteType.Real);
        _upstreamLatencyMs = Add("$upstream_latency_ms", SqliteType.Real);
        _clientAborted = Add("$client_aborted", SqliteType.Integer);
        _task = Add("$task", SqliteType.Text);
        _sourceAddress = Add("$source_address", SqliteType.Text);
        _reservationId = Add("$reservation_id", SqliteType.Text);
        _outputCap = Add("$output_cap", SqliteType.Integer);
        _overshoot = Add("$overshoot", SqliteType.Integer);
        _shadowRefusals = Add("$shadow_refusals", SqliteType.Text);
        _warning = Add("$warning", SqliteType.Text);
        _reportedInputTokens = Add("$reported_input_tokens", SqliteType.Integer);
        _reportedOutputTokens = Add("$reported_output_tokens", SqliteType.Integer);
        _usageClamped = Add("$usage_clamped", SqliteType.Integer);
        _billingRule = Add("$billing_rule", SqliteType.Text);
        _cacheWrite5mTokens = Add("$cache_write_5m_tokens", SqliteType.Integer);
        _cacheWrite1hTokens = Add("$cache_write_1h_tokens", SqliteType.Integer);
        _attempts = Add("$attempts", SqliteType.Text);
        _toolCalls = Add("$tool_calls", SqliteType.Integer);
        _toolFeeNanos = Add("$tool_fee_nanos", SqliteType.Integer);
        _command.Prepare();
    }

    /// <summary>Inserts one record.</summary>
    public Task<int> ExecuteAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        _ts.Value = UnixTime.ToMilliseconds(record.Timestamp);
        _requestId.Value = record.RequestId;
        _upstreamRequestId.Value = DbValue.Of(record.UpstreamRequestId);
        _endpoint.Value = record.Endpoint;
        _keyId.Value = DbValue.Of(record.KeyId);
        _tenant.Value = DbValue.Of(record.Tenant);
        _user.Value = DbValue.Of(record.User);
        _model.Value = DbValue.Of(record.Model);
        _upstream.Value = DbValue.Of(record.Upstream);
        _decision.Value = record.Decision;
        _reason.Value = record.Reason;
        _stream.Value = record.Stream ? 1L : 0L;
        _inputTokens.Value = record.Usage.InputTokens;
        _cachedInputTokens.Value = record.Usage.CachedInputTokens;
        _outputTokens.Value = record.Usage.OutputTokens;
        _reasoningTokens.Value = record.Usage.ReasoningTokens;
        _costNanos.Value = record.CostNanos;
        _usageSource.Value = (long)record.UsageSource;
        _status.Value = (long)record.Status;
        _upstreamStatus.Value = DbValue.Of(record.UpstreamStatus);
        _latencyMs.Value = record.LatencyMs;
        _upstreamLatencyMs.Value = record.UpstreamLatencyMs;
        _clientAborted.Value = record.ClientAborted ? 1L : 0L;
        _task.Value = DbValue.Of(record.Task);
        _sourceAddress.Value = DbValue.Of(record.SourceAddress);
        _reservationId.Value = DbValue.Of(record.ReservationId);
        _outputCap.Value = DbValue.Of(record.OutputCap);
        _overshoot.Value = record.Overshoot ? 1L : 0L;
        _shadowRefusals.Value = DbValue.Of(record.ShadowRefusals);
        _warning.Value = DbValue.Of(record.Warning);
        _reportedInputTokens.Value = DbValue.Of(record.ReportedInputTokens);
        _reportedOutputTokens.Value = DbValue.Of(record.ReportedOutputTokens);
        _usageClamped.Value = record.UsageClamped ? 1L : 0L;
        _billingRule.Value = DbValue.Of(record.BillingRule);
        _cacheWrite5mTokens.Value = record.Usage.CacheWrite5mTokens;
        _cacheWrite1hTokens.Value = record.Usage.CacheWrite1hTokens;
        _attempts.Value = AttemptsJson.ToDbValue(record.Attempts);
        _toolCalls.Value = record.Usage.ToolCalls;
        _toolFeeNanos.Value = record.ToolFeeNanos;
        return _command.ExecuteNonQueryAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => _command.DisposeAsync();

    private SqliteParameter Add(string name, SqliteType type) => _command.Parameters.Add(name, type);
}
