using Microsoft.Data.Sqlite;
using SQLitePCL;
using Tollgate.Audit;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// A prepared <c>INSERT INTO audit</c> whose parameters are rebound for each record of a batch, on the connection's
/// native statement: each parameter's position is looked up once per batch, and each record's values are bound by
/// position, with no boxing and no text copied to UTF-8 on the managed side.
/// </summary>
/// <remarks>
/// <see cref="SqliteCommand"/> binds every parameter by name on every execution (a search of the statement's 39
/// names per parameter, and the name converted to UTF-8 each time), which made binding the larger part of the ledger
/// writer's time. The statement runs inside the caller's transaction on the same connection.
/// </remarks>
internal sealed class AuditInsertCommand : IDisposable
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

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private readonly int _ts;
    private readonly int _requestId;
    private readonly int _upstreamRequestId;
    private readonly int _endpoint;
    private readonly int _keyId;
    private readonly int _tenant;
    private readonly int _user;
    private readonly int _model;
    private readonly int _upstream;
    private readonly int _decision;
    private readonly int _reason;
    private readonly int _stream;
    private readonly int _inputTokens;
    private readonly int _cachedInputTokens;
    private readonly int _outputTokens;
    private readonly int _reasoningTokens;
    private readonly int _costNanos;
    private readonly int _usageSource;
    private readonly int _status;
    private readonly int _upstreamStatus;
    private readonly int _latencyMs;
    private readonly int _upstreamLatencyMs;
    private readonly int _clientAborted;
    private readonly int _task;
    private readonly int _sourceAddress;
    private readonly int _reservationId;
    private readonly int _outputCap;
    private readonly int _overshoot;
    private readonly int _shadowRefusals;
    private readonly int _warning;
    private readonly int _reportedInputTokens;
    private readonly int _reportedOutputTokens;
    private readonly int _usageClamped;
    private readonly int _billingRule;
    private readonly int _cacheWrite5mTokens;
    private readonly int _cacheWrite1hTokens;
    private readonly int _attempts;
    private readonly int _toolCalls;
    private readonly int _toolFeeNanos;

    public AuditInsertCommand(SqliteConnection connection)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        Check(raw.sqlite3_prepare_v2(_db, Sql, out _statement));
        try
        {
            _ts = Index("$ts");
            _requestId = Index("$request_id");
            _upstreamRequestId = Index("$upstream_request_id");
            _endpoint = Index("$endpoint");
            _keyId = Index("$key_id");
            _tenant = Index("$tenant");
            _user = Index("$user");
            _model = Index("$model");
            _upstream = Index("$upstream");
            _decision = Index("$decision");
            _reason = Index("$reason");
            _stream = Index("$stream");
            _inputTokens = Index("$input_tokens");
            _cachedInputTokens = Index("$cached_input_tokens");
            _outputTokens = Index("$output_tokens");
            _reasoningTokens = Index("$reasoning_tokens");
            _costNanos = Index("$cost_nanos");
            _usageSource = Index("$usage_source");
            _status = Index("$status");
            _upstreamStatus = Index("$upstream_status");
            _latencyMs = Index("$latency_ms");
            _upstreamLatencyMs = Index("$upstream_latency_ms");
            _clientAborted = Index("$client_aborted");
            _task = Index("$task");
            _sourceAddress = Index("$source_address");
            _reservationId = Index("$reservation_id");
            _outputCap = Index("$output_cap");
            _overshoot = Index("$overshoot");
            _shadowRefusals = Index("$shadow_refusals");
            _warning = Index("$warning");
            _reportedInputTokens = Index("$reported_input_tokens");
            _reportedOutputTokens = Index("$reported_output_tokens");
            _usageClamped = Index("$usage_clamped");
            _billingRule = Index("$billing_rule");
            _cacheWrite5mTokens = Index("$cache_write_5m_tokens");
            _cacheWrite1hTokens = Index("$cache_write_1h_tokens");
            _attempts = Index("$attempts");
            _toolCalls = Index("$tool_calls");
            _toolFeeNanos = Index("$tool_fee_nanos");
        }
        catch
        {
            _statement.Dispose();
            throw;
        }
    }

    /// <summary>Inserts one record.</summary>
    public void Execute(AuditRecord record)
    {
        Integer(_ts, UnixTime.ToMilliseconds(record.Timestamp));
        Text(_requestId, record.RequestId);
        Text(_upstreamRequestId, record.UpstreamRequestId);
        Text(_endpoint, record.Endpoint);
        Text(_keyId, record.KeyId);
        Text(_tenant, record.Tenant);
        Text(_user, record.User);
        Text(_model, record.Model);
        Text(_upstream, record.Upstream);
        Text(_decision, record.Decision);
        Text(_reason, record.Reason);
        Integer(_stream, record.Stream);
        Integer(_inputTokens, record.Usage.InputTokens);
        Integer(_cachedInputTokens, record.Usage.CachedInputTokens);
        Integer(_outputTokens, record.Usage.OutputTokens);
        Integer(_reasoningTokens, record.Usage.ReasoningTokens);
        Integer(_costNanos, record.CostNanos);
        Integer(_usageSource, (long)record.UsageSource);
        Integer(_status, (long)record.Status);
        Integer(_upstreamStatus, record.UpstreamStatus);
        Real(_latencyMs, record.LatencyMs);
        Real(_upstreamLatencyMs, record.UpstreamLatencyMs);
        Integer(_clientAborted, record.ClientAborted);
        Text(_task, record.Task);
        Text(_sourceAddress, record.SourceAddress);
        Text(_reservationId, record.ReservationId);
        Integer(_outputCap, record.OutputCap);
        Integer(_overshoot, record.Overshoot);
        Text(_shadowRefusals, record.ShadowRefusals);
        Text(_warning, record.Warning);
        Integer(_reportedInputTokens, record.ReportedInputTokens);
        Integer(_reportedOutputTokens, record.ReportedOutputTokens);
        Integer(_usageClamped, record.UsageClamped);
        Text(_billingRule, record.BillingRule);
        Integer(_cacheWrite5mTokens, record.Usage.CacheWrite5mTokens);
        Integer(_cacheWrite1hTokens, record.Usage.CacheWrite1hTokens);
        Text(_attempts, AttemptsJson.ToJson(record.Attempts));
        Integer(_toolCalls, record.Usage.ToolCalls);
        Integer(_toolFeeNanos, record.ToolFeeNanos);
        int rc = raw.sqlite3_step(_statement);
        try
        {
            if (rc != raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(rc, _db);
            }
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    public void Dispose() => _statement.Dispose();

    private int Index(string name)
    {
        int index = raw.sqlite3_bind_parameter_index(_statement, name);
        return index > 0 ? index : throw new InvalidOperationException($"The audit insert has no parameter {name}.");
    }

    private void Integer(int index, long value) => Check(raw.sqlite3_bind_int64(_statement, index, value));

    private void Integer(int index, long? value) => Check(value is { } v ? raw.sqlite3_bind_int64(_statement, index, v) : raw.sqlite3_bind_null(_statement, index));

    private void Integer(int index, bool value) => Integer(index, value ? 1L : 0L);

    private void Real(int index, double value) => Check(raw.sqlite3_bind_double(_statement, index, value));

    // UTF-16 as the string holds it: SQLite copies it and converts it to the database's UTF-8 itself.
    private void Text(int index, string? value) =>
        Check(value is null ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_text16(_statement, index, value.AsSpan()));

    private void Check(int rc) => SqliteResult.Check(rc, _db);
}
