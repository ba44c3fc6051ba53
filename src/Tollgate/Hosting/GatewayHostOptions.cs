namespace Tollgate.Hosting;

/// <summary>How to start a gateway: from the CLI, or from a functional test.</summary>
internal sealed record GatewayHostOptions
{
    /// <summary>The data directory (null: the default).</summary>
    public string? DataDirectory { get; init; }

    /// <summary>A configuration file (null: the built-in default).</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Where the API listens.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>Overrides <c>Tollgate:Metrics:Urls</c> (tests pass port 0).</summary>
    public string? MetricsUrls { get; init; }

    /// <summary>The clock (tests pass a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Replaces services after the defaults are registered (tests swap in a failing ledger store).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>Extra logging setup (tests capture every log line to check that no secret is written).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }

    /// <summary>The lowest level logged to the console.</summary>
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;
}
