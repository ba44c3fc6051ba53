// A bare ASP.NET Core forwarder: the floor under Tollgate's own work, measured by bench/run.sh as the "aspnet" target.
// Every POST is read whole (as the gateway reads a request body), sent to the upstream with HttpClient over pooled
// keep-alive connections, and its answer relayed as it arrives (a stream chunk by chunk). No identity, limits,
// counting, ledger or metrics: what Tollgate costs above this is its policy work.
//
//   forwarder --urls http://127.0.0.1:PORT --upstream http://127.0.0.1:UPSTREAM-PORT
using System.Buffers;
using System.Net.Http.Headers;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
var upstream = new Uri(builder.Configuration["upstream"] ?? throw new InvalidOperationException("--upstream is required"));
using var client = new HttpClient(new SocketsHttpHandler
{
    PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
    MaxConnectionsPerServer = 256,
    UseProxy = false,
    AutomaticDecompression = System.Net.DecompressionMethods.None,
})
{
    BaseAddress = upstream,
    Timeout = TimeSpan.FromSeconds(60),
};

var app = builder.Build();
app.MapGet("/healthz", () => "ok");
app.MapPost("/{**path}", async (HttpContext http) =>
{
    var body = new MemoryStream(http.Request.ContentLength is { } length and < 1 << 24 ? (int)length : 4096);
    await http.Request.Body.CopyToAsync(body, http.RequestAborted);
    using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(upstream, http.Request.Path.Value))
    {
        Content = new ReadOnlyMemoryContent(body.GetBuffer().AsMemory(0, (int)body.Length)),
    };
    message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
    using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, http.RequestAborted);
    http.Response.StatusCode = (int)response.StatusCode;
    http.Response.ContentType = response.Content.Headers.ContentType?.ToString();
    await using var content = await response.Content.ReadAsStreamAsync(http.RequestAborted);
    byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
    try
    {
        int read;
        while ((read = await content.ReadAsync(buffer, http.RequestAborted)) > 0)
        {
            await http.Response.Body.WriteAsync(buffer.AsMemory(0, read), http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
        }
    }
    finally
    {
        ArrayPool<byte>.Shared.Return(buffer);
    }
});
app.Run();
