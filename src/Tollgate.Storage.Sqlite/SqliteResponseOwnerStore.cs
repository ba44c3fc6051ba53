using Tollgate.Responses;

namespace Tollgate.Storage.Sqlite;

/// <summary>The SQLite <see cref="IResponseOwnerStore"/>: the <c>response_owners</c> table.</summary>
public sealed class SqliteResponseOwnerStore(SqliteDatabase database) : IResponseOwnerStore
{
    /// <inheritdoc />
    public async ValueTask RecordAsync(StoredResponse response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO response_owners (response_id, key_id, model, input_tokens, output_tokens, created_at)
            VALUES ($id, $key, $model, $input, $output, $created) ON CONFLICT (response_id) DO NOTHING;
            """;
        command.Parameters.AddWithValue("$id", response.ResponseId);
        command.Parameters.AddWithValue("$key", response.KeyId);
        command.Parameters.AddWithValue("$model", response.Model);
        command.Parameters.AddWithValue("$input", response.InputTokens);
        command.Parameters.AddWithValue("$output", response.OutputTokens);
        command.Parameters.AddWithValue("$created", UnixTime.ToMilliseconds(response.CreatedAt));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<StoredResponse?> FindAsync(string responseId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT key_id, model, input_tokens, output_tokens, created_at FROM response_owners WHERE response_id = $id;";
        command.Parameters.AddWithValue("$id", responseId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new StoredResponse(responseId, reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3),
            UnixTime.FromMilliseconds(reader.GetInt64(4)));
    }
}
