namespace Tollgate.Identity;

/// <summary>
/// Authenticates a request from its <c>Authorization: Bearer</c> or <c>x-api-key</c> header and nothing else.
/// </summary>
public sealed class ApiKeyAuthenticator(IApiKeyStore store, KeyHasher hasher, TimeProvider timeProvider)
{
    private const string BearerPrefix = "Bearer ";

    /// <summary>Authenticates from the raw header values (null when absent).</summary>
    public async ValueTask<AuthenticationResult> AuthenticateAsync(string? authorization, string? xApiKey, CancellationToken cancellationToken)
    {
        string? bearer = null;
        if (!string.IsNullOrEmpty(authorization))
        {
            if (!authorization.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
            {
                return AuthenticationResult.Fail(AuthenticationFailures.Unknown, "The Authorization header must be 'Bearer <key>'.");
            }

            bearer = authorization[BearerPrefix.Length..].Trim();
        }

        string? headerKey = string.IsNullOrEmpty(xApiKey) ? null : xApiKey.Trim();
        if (bearer is not null && headerKey is not null && !string.Equals(bearer, headerKey, StringComparison.Ordinal))
        {
            return AuthenticationResult.Fail(AuthenticationFailures.Conflicting, "The Authorization and x-api-key headers carry different keys.");
        }

        string? secret = bearer ?? headerKey;
        if (string.IsNullOrEmpty(secret))
        {
            return AuthenticationResult.Fail(AuthenticationFailures.Missing,
                "No API key provided. Send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.");
        }

        if (!ApiKeyFormat.LooksLikeSecret(secret))
        {
            return AuthenticationResult.Fail(AuthenticationFailures.Unknown, "Incorrect API key provided.");
        }

        var match = await store.FindBySecretHashAsync(hasher.Hash(secret), cancellationToken).ConfigureAwait(false);
        if (match is null)
        {
            return AuthenticationResult.Fail(AuthenticationFailures.Unknown, "Incorrect API key provided.");
        }

        var key = match.Key;
        var now = timeProvider.GetUtcNow();
        if (key.RevokedAt is not null)
        {
            return AuthenticationResult.Fail(AuthenticationFailures.Revoked, "This API key has been revoked.", key.Id);
        }

        if (key.ExpiresAt <= now || match.SecretValidUntil <= now)
        {
            return AuthenticationResult.Fail(AuthenticationFailures.Expired, "This API key has expired.", key.Id);
        }

        return AuthenticationResult.Success(new CallerIdentity(key.Id, key.Tenant, key.User, key.Plan, key.Overrides));
    }
}
