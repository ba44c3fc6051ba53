namespace Tollgate.Configuration;

/// <summary>The configuration in force: read <see cref="Current"/> at each use, because a reload replaces it.</summary>
public interface IGatewayConfigSource
{
    /// <summary>The last valid configuration.</summary>
    GatewayConfig Current { get; }
}
