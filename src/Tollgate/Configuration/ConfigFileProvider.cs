using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace Tollgate.Configuration;

/// <summary>
/// Serves the configuration file's directory and watches only the file itself. The stock physical provider watches
/// its root recursively, so a data directory kept beside or under the configuration file (the SQLite database, its
/// WAL and the lease journal) would wake the watcher on every write the gateway makes. This one watches the
/// directory without its subdirectories and signals only for the configuration file's name, including an editor's
/// write-then-rename.
/// </summary>
internal sealed class ConfigFileProvider : IFileProvider, IDisposable
{
    private readonly PhysicalFileProvider _files;
    private readonly string _fileName;
    private readonly object _gate = new();
    private FileSystemWatcher? _watcher;
    private CancellationTokenSource _changed = new();

    public ConfigFileProvider(string fullPath)
    {
        _files = new PhysicalFileProvider(Path.GetDirectoryName(fullPath)!);
        _fileName = Path.GetFileName(fullPath);
    }

    public IFileInfo GetFileInfo(string subpath) => _files.GetFileInfo(subpath);

    public IDirectoryContents GetDirectoryContents(string subpath) => _files.GetDirectoryContents(subpath);

    public IChangeToken Watch(string filter)
    {
        if (!string.Equals(filter.TrimStart('/', '\\'), _fileName, StringComparison.Ordinal))
            return NullChangeToken.Singleton;

        lock (_gate)
        {
            if (_watcher is null)
            {
                _watcher = new FileSystemWatcher(_files.Root, _fileName)
                {
                    IncludeSubdirectories = false,
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                };
                _watcher.Changed += OnChanged;
                _watcher.Created += OnChanged;
                _watcher.Deleted += OnChanged;
                _watcher.Renamed += OnChanged;
                _watcher.EnableRaisingEvents = true;
            }

            return new CancellationChangeToken(_changed.Token);
        }
    }

    private void OnChanged(object sender, FileSystemEventArgs e)
    {
        CancellationTokenSource fired;
        lock (_gate)
        {
            fired = _changed;
            _changed = new CancellationTokenSource();
        }

        fired.Cancel();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _watcher?.Dispose();
            _watcher = null;
        }

        _files.Dispose();
    }
}
