using Microsoft.Extensions.Primitives;
using Tollgate.Configuration;

namespace Tollgate.Configuration;

/// <summary>
/// The current configuration. When the file changes it is bound and validated again; a valid one replaces the
/// current config for the next request, an invalid one is refused with every error logged and the last good
/// config stays in force.
/// </summary>
internal sealed partial class GatewayConfigMonitor : IGatewayConfigSource, IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly ILogger<GatewayConfigMonitor> _logger;
    private readonly IDisposable _subscription;
    private volatile GatewayConfig _current;

    public GatewayConfigMonitor(IConfiguration configuration, GatewayConfig initial, ILogger<GatewayConfigMonitor> logger)
    {
        _configuration = configuration;
        _current = initial;
        _logger = logger;
        _subscription = ChangeToken.OnChange(configuration.GetReloadToken, Reload);
    }

    public GatewayConfig Current => _current;

    /// <summary>Counts reloads refused because the new config was invalid.</summary>
    public int RejectedReloads { get; private set; }

    public void Dispose() => _subscription.Dispose();

    private void Reload()
    {
        var errors = new List<ConfigError>();
        GatewayConfig? next;
        try
        {
            next = ConfigurationLoader.Load(_configuration, errors);
        }
        catch (Exception e)
        {
            errors.Add(new ConfigError(TollgateOptions.SectionName, e.Message));
            next = null;
        }

        if (next is null)
        {
            RejectedReloads++;
            LogReloadRejected(_logger, errors.Count);
            foreach (var error in errors)
            {
                LogReloadError(_logger, error.ToString());
            }

            return;
        }

        // Off the request path: the reload runs on the file watcher's thread.
        next.Repetition.WarmUp();
        _current = next;
        LogReloaded(_logger, next.Models.Count, next.Options.Plans.Count);
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Configuration reloaded: {Models} models, {Plans} plans")]
    private static partial void LogReloaded(ILogger logger, int models, int plans);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "Configuration reload refused ({Count} errors); keeping the last good configuration")]
    private static partial void LogReloadRejected(ILogger logger, int count);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "Configuration error: {Error}")]
    private static partial void LogReloadError(ILogger logger, string error);
}
