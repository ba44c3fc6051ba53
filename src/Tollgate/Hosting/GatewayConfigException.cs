using Tollgate.Configuration;

namespace Tollgate.Hosting;

/// <summary>The configuration is invalid; the CLI prints every error and exits with code 2.</summary>
internal sealed class GatewayConfigException(IReadOnlyList<ConfigError> errors)
    : Exception($"The configuration has {errors.Count} error(s):{Environment.NewLine}{string.Join(Environment.NewLine, errors)}")
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}
