using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tollgate.FunctionalTests.Infrastructure;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Text that is not valid Unicode (raw bytes that are not UTF-8, an unpaired surrogate escape) is a 400 naming the
/// field, with one audit record, on every endpoint — never a 500, and never rewritten on its way upstream.
/// </summary>
public sealed class InvalidTextTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    public static TheoryData<string, string, string> Cases() => new()
    {
        // endpoint, body with a placeholder X for the bad text, the param expected
        { "/v1/chat/completions", """{"model":"sim-mini","messages":[{"role":"user","content":"X"}]}""", "messages[0].content" },
        { "/v1/chat/completions", """{"model":"sim-mini","messages":[{"role":"system","content":"ok"},{"role":"user","content":[{"type":"text","text":"X"}]}]}""", "messages[1].content[0].text" },
        { "/v1/chat/completions", """{"model":"sim-mini","user":"X","messages":[{"role":"user","content":"hi"}]}""", "user" },
        { "/v1/chat/completions", """{"model":"X","messages":[{"role":"user","content":"hi"}]}""", "model" },
        { "/v1/completions", """{"model":"sim-mini","prompt":"X"}""", "prompt" },
        { "/v1/completions", """{"model":"sim-mini","prompt":["fine","X"]}""", "prompt[1]" },
        { "/v1/embeddings", """{"model":"sim-embed","input":"X"}""", "input" },
        { "/v1/embeddings", """{"model":"sim-embed","input":["a","b","X"]}""", "input[2]" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Post_InvalidUtf8Bytes_Is400NamingTheFieldWithOneAuditRecord(string path, string template, string param) =>
        await AssertRefusedAsync(path, Splice(template, "x "u8.ToArray().Concat(new byte[] { 0xFF }).Concat(" y"u8.ToArray()).ToArray()), param);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Post_LoneSurrogateEscape_Is400NamingTheFieldWithOneAuditRecord(string path, string template, string param) =>
        await AssertRefusedAsync(path, Splice(template, "x \\ud800 y"u8.ToArray()), param);

    [Theory]
    [InlineData("x \\udc00 y")]
    [InlineData("x \\ud800\\u0041 y")]
    [InlineData("tail \\ud83d")]
    public async Task Post_OtherBrokenSurrogates_Are400(string text) =>
        await AssertRefusedAsync("/v1/chat/completions",
            Splice("""{"model":"sim-mini","messages":[{"role":"user","content":"X"}]}""", Encoding.UTF8.GetBytes(text)), "messages[0].content");

    [Fact]
    public async Task Post_InvalidUtf8InAPropertyName_Is400()
    {
        byte[] body = Splice("""{"model":"sim-mini","messages":[{"role":"user","content":"hi","X":1}]}""", [0xC3, 0x28]);
        await AssertRefusedAsync("/v1/chat/completions", body, "messages[0]");
    }

    [Fact]
    public async Task Post_ValidSurrogatePairsAndCjk_AreServed()
    {
        string key = await _gateway.CreateKeyAsync();
        byte[] body = Splice("""{"model":"sim-mini","messages":[{"role":"user","content":"X"}]}""",
            Encoding.UTF8.GetBytes("漢字 \\ud83d\\ude00 and 😀 \\u00e9"));
        using var response = await SendAsync(key, "/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task AssertRefusedAsync(string path, byte[] body, string param)
    {
        string key = await _gateway.CreateKeyAsync();
        using var response = await SendAsync(key, path, body);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        using var json = JsonDocument.Parse(text);
        var error = json.RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains("not valid Unicode", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        string requestId = response.Headers.GetValues("x-request-id").Single();
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal("refused", record.Decision);
        Assert.Equal("invalid_request_error", record.Reason);
        Assert.NotNull(record.Tenant);
        Assert.Equal(0, record.CostNanos);
        Assert.Empty(_gateway.Simulator.Billing.All);
    }

    private Task<HttpResponseMessage> SendAsync(string key, string path, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return _gateway.Http.SendAsync(request);
    }

    private static byte[] Splice(string template, byte[] bad)
    {
        byte[] raw = Encoding.UTF8.GetBytes(template);
        int at = Array.IndexOf(raw, (byte)'X');
        return [.. raw[..at], .. bad, .. raw[(at + 1)..]];
    }
}
