using System.Text;
using Microsoft.Data.Sqlite;
using Tollgate.Audit;

namespace Tollgate.Storage.Sqlite;

/// <summary>
/// Turns a <see cref="UsageQuery"/> into a WHERE clause naming only the filters set, so SQLite can pick the
/// matching index ((tenant, ts), (tenant, user, ts), (ts) or request_id).
/// </summary>
internal static class LedgerFilter
{
    /// <summary>Appends the clause to <paramref name="sql"/> and binds its parameters to <paramref name="command"/>.</summary>
    public static void Apply(UsageQuery query, StringBuilder sql, SqliteCommand command)
    {
        string keyword = " WHERE ";
        if (query.Tenant is not null)
        {
            sql.Append(keyword).Append("tenant = $tenant");
            command.Parameters.AddWithValue("$tenant", query.Tenant);
            keyword = " AND ";
        }

        if (query.User is not null)
        {
            sql.Append(keyword).Append("user = $user");
            command.Parameters.AddWithValue("$user", query.User);
            keyword = " AND ";
        }

        if (query.Since is { } since)
        {
            sql.Append(keyword).Append("ts >= $since");
            command.Parameters.AddWithValue("$since", UnixTime.CeilingMilliseconds(since));
            keyword = " AND ";
        }

        if (query.RequestId is not null)
        {
            sql.Append(keyword).Append("request_id = $request_id");
            command.Parameters.AddWithValue("$request_id", query.RequestId);
        }
    }
}
