using System.Security.Cryptography;

namespace Tollgate.Hosting;

/// <summary>
/// Where Tollgate keeps its state: <c>tollgate.db</c> (keys and the audit ledger, SQLite in WAL mode) and
/// <c>hash.key</c> (the key that hashes API keys, created on first run, readable by the owner only).
/// Default: <c>$TOLLGATE_DATA</c>, else <c>$XDG_DATA_HOME/tollgate</c>, else <c>~/.local/share/tollgate</c>.
/// </summary>
internal sealed class DataDirectory
{
    /// <summary>Environment variable that overrides the default data directory.</summary>
    public const string DataEnvironmentVariable = "TOLLGATE_DATA";

    /// <summary>Environment variable holding the key-hashing key (base64, at least 32 bytes) instead of <c>hash.key</c>.</summary>
    public const string HashKeyEnvironmentVariable = "TOLLGATE_KEY_HASH_SECRET";

    public DataDirectory(string? path)
    {
        Path = System.IO.Path.GetFullPath(path ?? DefaultPath());
    }

    public string Path { get; }

    public string DatabasePath => System.IO.Path.Combine(Path, "tollgate.db");

    public string HashKeyPath => System.IO.Path.Combine(Path, "hash.key");

    public static string DefaultPath()
    {
        string? explicitPath = Environment.GetEnvironmentVariable(DataEnvironmentVariable);
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return explicitPath;
        }

        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        string root = !string.IsNullOrEmpty(xdg)
            ? xdg
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return System.IO.Path.Combine(root, "tollgate");
    }

    /// <summary>
    /// Takes the data directory for one running gateway (<c>serve.lock</c>, held until disposed; the OS releases it
    /// if the process dies). Two gateways on one directory would bill each other's in-flight leases as orphans.
    /// CLI commands do not take it: they work while the gateway runs.
    /// </summary>
    public IDisposable LockForServing()
    {
        EnsureExists();
        string path = System.IO.Path.Combine(Path, "serve.lock");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new InvalidOperationException($"Another gateway is already serving from {Path} (it holds {path}).");
        }
    }

    public void EnsureExists()
    {
        if (!Directory.Exists(Path))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(Path);
            }
            else
            {
                Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
    }

    /// <summary>Reads the key-hashing key from the environment, or from <c>hash.key</c>, creating it (mode 0600) on first run.</summary>
    public byte[] LoadOrCreateHashKey()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable(HashKeyEnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            byte[] key = Convert.FromBase64String(fromEnvironment);
            return key.Length >= 32 ? key : throw new InvalidOperationException($"{HashKeyEnvironmentVariable} must hold at least 32 bytes (base64).");
        }

        EnsureExists();
        if (File.Exists(HashKeyPath))
        {
            return ReadKeyFile();
        }

        byte[] fresh = RandomNumberGenerator.GetBytes(32);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(HashKeyPath, options))
            {
                stream.Write(System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(fresh)));
            }

            return fresh;
        }
        catch (IOException) when (File.Exists(HashKeyPath))
        {
            // Another process created it first: use theirs.
            return ReadKeyFile();
        }
    }

    private byte[] ReadKeyFile()
    {
        byte[] key = Convert.FromBase64String(File.ReadAllText(HashKeyPath).Trim());
        return key.Length >= 32 ? key : throw new InvalidOperationException($"{HashKeyPath} must hold at least 32 bytes (base64).");
    }
}
