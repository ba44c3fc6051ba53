namespace Tollgate.Identity;

/// <summary>Who a request is from. Comes from the key alone; no request header can change it.</summary>
/// <param name="KeyId">The key's public id.</param>
/// <param name="Tenant">The key's tenant.</param>
/// <param name="User">The key's user.</param>
/// <param name="Plan">The key's plan.</param>
/// <param name="Overrides">The key's overrides of plan settings.</param>
public sealed record CallerIdentity(string KeyId, string Tenant, string User, string Plan, IReadOnlyDictionary<string, string>? Overrides = null);
