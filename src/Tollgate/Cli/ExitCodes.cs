namespace Tollgate.Cli;

/// <summary>Process exit codes.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int UsageOrConfig = 2;
}

/// <summary>A usage error found after parsing (a bad value, an unknown id); exits with code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
