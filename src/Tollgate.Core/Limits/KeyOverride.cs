namespace Tollgate.Limits;

/// <summary>One valid override of a plan setting for one key, in canonical form (see <see cref="KeyOverrides"/>).</summary>
/// <param name="Name">The setting's name as spelt in <see cref="KeyOverrides.Names"/>, e.g. <c>RequestsPerMinute</c>.</param>
/// <param name="Value">The value as stored: a whole number without leading zeros, or dollars such as <c>2.5</c>.</param>
public readonly record struct KeyOverride(string Name, string Value);
