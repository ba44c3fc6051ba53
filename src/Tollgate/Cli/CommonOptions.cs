using System.CommandLine;

namespace Tollgate.Cli;

/// <summary>Options every command takes.</summary>
internal static class CommonOptions
{
    public static readonly Option<string?> Data = new("--data")
    {
        Description = "Data directory (keys, ledger, hashing key). Default: $TOLLGATE_DATA, else $XDG_DATA_HOME/tollgate, else ~/.local/share/tollgate.",
        Recursive = true,
    };

    public static readonly Option<string?> Config = new("--config")
    {
        Description = "Configuration file (JSON). Default: the built-in configuration (simulated models, plans free/basic/premium).",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json") { Description = "Print JSON instead of text." };
}
