using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Tollgate.Upstreams;

namespace Tollgate.Simulator;

/// <summary>Registers the simulated model as an upstream kind.</summary>
public static class SimulatorServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <c>simulator</c> upstream kind (<see cref="SimulatorUpstreamHandlerFactory"/>, also as an
    /// <see cref="IUpstreamHandlerFactory"/>). Needs a <see cref="TimeProvider"/> and an
    /// <see cref="Configuration.IGatewayConfigSource"/>. Calling it again changes nothing.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddTollgateSimulator(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(SimulatorUpstreamHandlerFactory)))
        {
            return services;
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SimulatorUpstreamHandlerFactory>();
        services.AddSingleton<IUpstreamHandlerFactory>(sp => sp.GetRequiredService<SimulatorUpstreamHandlerFactory>());
        return services;
    }
}
