using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Tollgate.Audit;
using Tollgate.Caching;
using Tollgate.Configuration;
using Tollgate.Identity;
using Tollgate.Limits;

namespace Tollgate;

/// <summary>Registers the policy core's services, for the gateway and the command line alike.</summary>
public static class CoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ApiKeyAuthenticator"/>, <see cref="ApiKeyIssuer"/>, <see cref="TaskRegistry"/>, the
    /// <see cref="AdmissionPolicy"/> (with <see cref="BudgetWarnings"/>), <see cref="QuotaRecovery"/>, the
    /// <see cref="LedgerWriter"/>, the response cache's <see cref="ResponseFlights"/>, and — unless already registered —
    /// the in-memory <see cref="IQuotaStore"/> and <see cref="IResponseCache"/> and the system <see cref="TimeProvider"/>.
    /// They need an <see cref="IApiKeyStore"/>, an <see cref="ILedgerStore"/>, a <see cref="KeyHasher"/> and an
    /// <see cref="IGatewayConfigSource"/> (and logging for the ledger writer); nothing is created until it is first
    /// resolved.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddTollgateCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IQuotaStore, InMemoryQuotaStore>();
        services.TryAddSingleton<Responses.IResponseOwnerStore, Responses.InMemoryResponseOwnerStore>();
        services.TryAddSingleton<IResponseCache>(sp =>
        {
            var config = sp.GetRequiredService<IGatewayConfigSource>();
            return new InMemoryResponseCache(() => config.Current.Options.Cache);
        });
        services.AddSingleton<ResponseFlights>();
        services.AddSingleton<ApiKeyAuthenticator>();
        services.AddSingleton<ApiKeyIssuer>();
        services.AddSingleton<TaskRegistry>();
        services.AddSingleton<BudgetWarnings>();
        services.AddSingleton<AdmissionPolicy>();
        services.AddSingleton<QuotaRecovery>();
        services.AddSingleton(sp =>
        {
            var config = sp.GetRequiredService<IGatewayConfigSource>();
            return new LedgerWriter(sp.GetRequiredService<ILedgerStore>(), () => config.Current.Options.Ledger,
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<LedgerWriter>>());
        });
        return services;
    }
}
