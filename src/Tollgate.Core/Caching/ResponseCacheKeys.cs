using System.Buffers;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text.Json;
using Tollgate.Protocol;

namespace Tollgate.Caching;

/// <summary>
/// Computes a request's <see cref="ResponseCacheKey"/>: SHA-256 over a version tag, the namespace, the endpoint, the
/// resolved model and its upstream, and the canonical form (<see cref="CanonicalJson"/>) of the body <b>as forwarded</b>
/// — after the upstream side of the protocol rewrote it (model id, output cap, usage options), so callers whose plans
/// give them different output caps never share an answer. Every member of the body counts except
/// <see cref="IgnoredFields"/>, which change how an answer is delivered, not what it says.
/// </summary>
public static class ResponseCacheKeys
{
    // Bumped when the canonical form or the stored form changes, so a shared store never serves an older shape.
    private const string Version = "tollgate-response-cache-v1";

    private static readonly JsonDocumentOptions s_options = new() { MaxDepth = 64 };

    /// <summary>
    /// Top-level request members that are not part of the key: <c>stream</c> and <c>stream_options</c> (a stored answer
    /// serves plain and streaming callers alike) and <c>prompt_cache_key</c> (a routing hint for the provider's prompt
    /// cache). Everything else — <c>user</c> and <c>safety_identifier</c> included — is.
    /// </summary>
    public static FrozenSet<string> IgnoredFields { get; } = FrozenSet.Create(StringComparer.Ordinal, "stream", "stream_options", "prompt_cache_key");

    /// <summary>The key of a request; false when <paramref name="forwardedBody"/> is not a JSON document.</summary>
    /// <param name="scope">Who shares the answer.</param>
    /// <param name="endpoint">The endpoint the request came to.</param>
    /// <param name="model">The resolved model's configured name.</param>
    /// <param name="upstream">The upstream serving it.</param>
    /// <param name="forwardedBody">The body exactly as it is sent upstream.</param>
    /// <param name="key">The key.</param>
    public static bool TryCompute(in ResponseCacheNamespace scope, ApiEndpoint endpoint, string model, string upstream,
        ReadOnlyMemory<byte> forwardedBody, out ResponseCacheKey key)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(upstream);
        key = default;
        var canonical = new ArrayBufferWriter<byte>(forwardedBody.Length + 128);
        CanonicalJson.WriteString(Version, canonical);
        CanonicalJson.WriteString(scope.Kind, canonical);
        CanonicalJson.WriteString(scope.Tenant, canonical);
        CanonicalJson.WriteString(scope.User, canonical);
        CanonicalJson.WriteString(endpoint.AuditName(), canonical);
        CanonicalJson.WriteString(model, canonical);
        CanonicalJson.WriteString(upstream, canonical);
        try
        {
            using var document = JsonDocument.Parse(forwardedBody, s_options);
            CanonicalJson.Write(document.RootElement, canonical, IgnoredFields);
        }
        catch (JsonException)
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(canonical.WrittenSpan, hash);
        key = ResponseCacheKey.FromHash(hash);
        return true;
    }
}
