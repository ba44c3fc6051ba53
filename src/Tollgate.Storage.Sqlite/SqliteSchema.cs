using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// The schema, as numbered migrations. The file's <c>PRAGMA user_version</c> is the number of migrations applied;
/// each runs once, in the same transaction as the version bump, so concurrent initializers cannot apply one twice.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>The schema version this build writes.</summary>
    public static int Version => _migrations.Length;

    /// <summary>The migrations' SQL in order; migration <c>n</c> (1-based) is at index <c>n - 1</c>.</summary>
    internal static IReadOnlyList<string> Migrations => _migrations;

    private static readonly string[] _migrations =
    [
        """
        CREATE TABLE api_keys (
            id         TEXT    NOT NULL PRIMARY KEY,
            name       TEXT,
            tenant     TEXT    NOT NULL,
            user       TEXT    NOT NULL,
            plan       TEXT    NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER,
            revoked_at INTEGER,
            rotated_at INTEGER
        ) STRICT;
        CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at, id);

        CREATE TABLE api_key_secrets (
            hash        TEXT    NOT NULL PRIMARY KEY,
            key_id      TEXT    NOT NULL REFERENCES api_keys (id),
            valid_until INTEGER
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX api_key_secrets_key_id ON api_key_secrets (key_id);

        CREATE TABLE audit (
            id                  INTEGER NOT NULL PRIMARY KEY,
            ts                  INTEGER NOT NULL,
            request_id          TEXT    NOT NULL,
            upstream_request_id TEXT,
            endpoint            TEXT    NOT NULL,
            key_id              TEXT,
            tenant              TEXT,
            user                TEXT,
            model               TEXT,
            upstream            TEXT,
            decision            TEXT    NOT NULL,
            reason              TEXT    NOT NULL,
            stream              INTEGER NOT NULL,
            input_tokens        INTEGER NOT NULL,
            cached_input_tokens INTEGER NOT NULL,
            output_tokens       INTEGER NOT NULL,
            reasoning_tokens    INTEGER NOT NULL,
            cost_nanos          INTEGER NOT NULL,
            usage_source        INTEGER NOT NULL,
            status              INTEGER NOT NULL,
            upstream_status     INTEGER,
            latency_ms          REAL    NOT NULL,
            upstream_latency_ms REAL    NOT NULL,
            client_aborted      INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX audit_tenant_ts ON audit (tenant, ts);
        CREATE INDEX audit_tenant_user_ts ON audit (tenant, user, ts);
        CREATE INDEX audit_ts ON audit (ts);
        CREATE INDEX audit_request_id ON audit (request_id);
        """,
        // 2: limits and reservations. Audit gains what admission decided; leases note requests in flight (deleted in
        // the transaction that writes their settling record); keys gain their overrides of plan settings (a JSON
        // object of strings). The (decision, ts) index serves the start-up rebuild of counters from allowed records.
        """
        ALTER TABLE audit ADD COLUMN task TEXT;
        ALTER TABLE audit ADD COLUMN source_address TEXT;
        ALTER TABLE audit ADD COLUMN reservation_id TEXT;
        ALTER TABLE audit ADD COLUMN output_cap INTEGER;
        ALTER TABLE audit ADD COLUMN overshoot INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE audit ADD COLUMN shadow_refusals TEXT;
        ALTER TABLE audit ADD COLUMN warning TEXT;
        CREATE INDEX audit_decision_ts ON audit (decision, ts);

        CREATE TABLE reservation_leases (
            id                  TEXT    NOT NULL PRIMARY KEY,
            ts                  INTEGER NOT NULL,
            request_id          TEXT    NOT NULL,
            endpoint            TEXT    NOT NULL,
            key_id              TEXT    NOT NULL,
            tenant              TEXT    NOT NULL,
            user                TEXT    NOT NULL,
            model               TEXT    NOT NULL,
            upstream            TEXT    NOT NULL,
            task                TEXT,
            source_address      TEXT,
            input_tokens        INTEGER NOT NULL,
            cached_input_tokens INTEGER NOT NULL,
            output_tokens       INTEGER NOT NULL,
            reasoning_tokens    INTEGER NOT NULL,
            cost_nanos          INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;

        ALTER TABLE api_keys ADD COLUMN overrides TEXT;
        """,
        // 3: the upstream's own figures beside the billed ones, whether they were clamped to what the request can
        // produce, and the rule an unknown outcome was billed under.
        """
        ALTER TABLE audit ADD COLUMN reported_input_tokens INTEGER;
        ALTER TABLE audit ADD COLUMN reported_output_tokens INTEGER;
        ALTER TABLE audit ADD COLUMN usage_clamped INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE audit ADD COLUMN billing_rule TEXT;
        """,
        // 4: a generation number every change to a key or a secret bumps (by trigger, whoever writes: the gateway,
        // the command line, or a SQL shell), so a process can cache keys and still see a change on the next request.
        """
        CREATE TABLE key_generation (
            id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            value INTEGER NOT NULL
        ) STRICT;
        INSERT INTO key_generation (id, value) VALUES (1, 0);
        CREATE TRIGGER api_keys_inserted AFTER INSERT ON api_keys BEGIN UPDATE key_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER api_keys_updated AFTER UPDATE ON api_keys BEGIN UPDATE key_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys BEGIN UPDATE key_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER api_key_secrets_inserted AFTER INSERT ON api_key_secrets BEGIN UPDATE key_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER api_key_secrets_updated AFTER UPDATE ON api_key_secrets BEGIN UPDATE key_generation SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER api_key_secrets_deleted AFTER DELETE ON api_key_secrets BEGIN UPDATE key_generation SET value = value + 1 WHERE id = 1; END;
        """,
        // 5: prompt-cache writes (Anthropic's five-minute and one-hour ones), part of the input and priced at their own rates.
        """
        ALTER TABLE audit ADD COLUMN cache_write_5m_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE audit ADD COLUMN cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0;
        """,

        // 6: the attempts of a request that was retried or went to a fallback (upstream, model, status, reason,
        // tokens, cost, reservation), as a JSON array; NULL for a request that made one attempt.
        """
        ALTER TABLE audit ADD COLUMN attempts TEXT;
        """,

        // 7: which key created which stored response (Responses API), and what its request billed.
        """
        CREATE TABLE response_owners (
            response_id   TEXT NOT NULL PRIMARY KEY,
            key_id        TEXT NOT NULL,
            model         TEXT NOT NULL,
            input_tokens  INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            created_at    INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        """,

        // 8: the background response (Responses API) whose reservation a lease holds: a restart resumes settling it
        // from the upstream instead of billing the lease at its worst case.
        """
        ALTER TABLE reservation_leases ADD COLUMN background_response_id TEXT;
        """,

        // 9: hosted tool calls (Responses API: web search, file search, …) billed beside the tokens, and the part of
        // cost_nanos that is their fees; on leases, the calls and fees reserved.
        """
        ALTER TABLE audit ADD COLUMN tool_calls INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE audit ADD COLUMN tool_fee_nanos INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE reservation_leases ADD COLUMN tool_calls INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE reservation_leases ADD COLUMN tool_fee_nanos INTEGER NOT NULL DEFAULT 0;
        """,

        // 10: leases move to an append-only file beside the database (LeaseJournal); the ids of the leases settled since
        // the file was last rewritten are kept here, in the transaction of the records that settle them. Rows left in
        // reservation_leases by an older version are moved to the file when it is opened.
        """
        CREATE TABLE settled_leases (
            id TEXT PRIMARY KEY
        ) STRICT, WITHOUT ROWID;
        """,
    ];

    /// <summary>Applies the migrations <paramref name="connection"/>'s file lacks, in one write transaction.</summary>
    internal static async Task MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "PRAGMA user_version;";
        int current = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        if (current > Version)
        {
            throw new InvalidOperationException(
                $"The database '{connection.DataSource}' has schema version {current}; this Tollgate supports up to {Version}. Upgrade Tollgate.");
        }

        if (current == Version)
        {
            return;
        }

        for (int i = current; i < Version; i++)
        {
            command.CommandText = _migrations[i];
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        command.CommandText = string.Create(CultureInfo.InvariantCulture, $"PRAGMA user_version = {Version};");
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}
