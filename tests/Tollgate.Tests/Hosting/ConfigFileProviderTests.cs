using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;
using Tollgate.Configuration;

namespace Tollgate.Tests.Hosting;

/// <summary>The configuration file's watcher: it signals for the file itself however an editor writes it, and for nothing else.</summary>
public sealed class ConfigFileProviderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tollgate-config-").FullName;
    private readonly string _path;

    public ConfigFileProviderTests()
    {
        _path = Path.Combine(_dir, "tollgate.json");
        File.WriteAllText(_path, "{}");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Watch_FileRewrittenInPlace_Signals()
    {
        using var files = new ConfigFileProvider(_path);
        var changed = Changed(files.Watch("tollgate.json"));

        await File.WriteAllTextAsync(_path, """{"a":1}""");

        await changed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("""{"a":1}""", await ReadAsync(files.GetFileInfo("tollgate.json")));
    }

    [Fact]
    public async Task Watch_EditorWritesATempFileAndRenamesItOver_Signals()
    {
        using var files = new ConfigFileProvider(_path);
        var changed = Changed(files.Watch("/tollgate.json"));

        string temp = Path.Combine(_dir, ".tollgate.json.swp");
        await File.WriteAllTextAsync(temp, """{"b":2}""");
        File.Move(temp, _path, overwrite: true);

        await changed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("""{"b":2}""", await ReadAsync(files.GetFileInfo("tollgate.json")));
    }

    [Fact]
    public async Task Watch_AfterASignal_TheNextTokenSignalsTheNextChange()
    {
        using var files = new ConfigFileProvider(_path);
        var first = Changed(files.Watch("tollgate.json"));
        await File.WriteAllTextAsync(_path, """{"c":1}""");
        await first.WaitAsync(TimeSpan.FromSeconds(30));

        var second = Changed(files.Watch("tollgate.json"));
        await File.WriteAllTextAsync(_path, """{"c":2}""");

        await second.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Watch_AnyOtherPath_IsNeverSignalled()
    {
        using var files = new ConfigFileProvider(_path);

        // Data files kept beside or under the configuration (the database, its WAL, the lease journal) are not watched.
        Assert.Same(NullChangeToken.Singleton, files.Watch("tollgate.db-wal"));
        Assert.Same(NullChangeToken.Singleton, files.Watch("data/tollgate.db"));
        Assert.Same(NullChangeToken.Singleton, files.Watch("**/*"));
    }

    private static Task Changed(IChangeToken token)
    {
        var signalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.RegisterChangeCallback(_ => signalled.TrySetResult(), null);
        return signalled.Task;
    }

    private static async Task<string> ReadAsync(IFileInfo file)
    {
        using var reader = new StreamReader(file.CreateReadStream());
        return await reader.ReadToEndAsync();
    }
}
