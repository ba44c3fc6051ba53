namespace Tollgate.Configuration;

/// <summary>One problem in a configuration: where it is, what is wrong, and the offending value.</summary>
/// <param name="Path">The configuration path, e.g. <c>Tollgate:Models:sim-mini:Prices:Input</c>.</param>
/// <param name="Message">What is wrong.</param>
/// <param name="Value">The bad value as written, when there is one.</param>
public sealed record ConfigError(string Path, string Message, string? Value = null)
{
    /// <inheritdoc />
    public override string ToString() => Value is null ? $"{Path}: {Message}" : $"{Path}: {Message} (value: '{Value}')";
}
