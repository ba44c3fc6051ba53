namespace Tollgate.Identity;

/// <summary>The outcome of authenticating a request: an identity, or why there is none.</summary>
public readonly record struct AuthenticationResult(CallerIdentity? Identity, string? FailureReason, string? FailureMessage, string? KeyId)
{
    /// <summary>Whether the caller is authenticated.</summary>
    public bool Succeeded => Identity is not null;

    /// <summary>An authenticated caller.</summary>
    public static AuthenticationResult Success(CallerIdentity identity) => new(identity, null, null, identity.KeyId);

    /// <summary>A refusal; <paramref name="keyId"/> is set when the key exists but may not be used (revoked, expired).</summary>
    public static AuthenticationResult Fail(string reason, string message, string? keyId = null) => new(null, reason, message, keyId);
}

/// <summary>Reason codes for an authentication failure (audited; the caller sees <c>invalid_api_key</c>).</summary>
public static class AuthenticationFailures
{
    /// <summary>No key in the request.</summary>
    public const string Missing = "key_missing";

    /// <summary>Authorization and x-api-key carry different keys.</summary>
    public const string Conflicting = "key_conflict";

    /// <summary>The key is not known (or malformed).</summary>
    public const string Unknown = "key_unknown";

    /// <summary>The key was revoked.</summary>
    public const string Revoked = "key_revoked";

    /// <summary>The key expired, or its old secret's rotation grace period ended.</summary>
    public const string Expired = "key_expired";
}
