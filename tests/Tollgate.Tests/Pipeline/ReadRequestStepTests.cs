using System.Text;
using Tollgate.Audit;
using Tollgate.Pipeline.Steps;
using Tollgate.Protocol;
using Tollgate.Protocols;

namespace Tollgate.Tests.Pipeline;

public sealed class ReadRequestStepTests : IAsyncLifetime
{
    private const long Limit = 1024;
    private readonly StepHarness _harness = new(o => o.Gateway.MaxRequestBodyBytes = Limit);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _harness.DisposeAsync().AsTask();

    [Theory]
    [InlineData("application/json", null)]
    [InlineData("application/json; charset=utf-8", null)]
    [InlineData("Application/JSON; charset=UTF-8", null)]
    [InlineData("application/json", "identity")]
    public void CheckMediaType_UncompressedJsonInUtf8_Accepted(string contentType, string? encoding)
    {
        var context = _harness.Context("{}");
        context.Http.Request.ContentType = contentType;
        context.Http.Request.Headers.ContentEncoding = encoding;

        Assert.Null(ReadRequestStep.CheckMediaType(context.Http.Request));
    }

    [Theory]
    [InlineData("application/json", "gzip", "Compressed")]
    [InlineData("application/json", "br", "Compressed")]
    [InlineData("text/plain", null, "must be JSON")]
    [InlineData("application/x-www-form-urlencoded", null, "must be JSON")]
    [InlineData("application/json; charset=iso-8859-1", null, "must be JSON")]
    [InlineData("application/json; charset=utf-16", null, "must be JSON")]
    public void CheckMediaType_CompressedOrNotJsonOrOtherCharset_415(string contentType, string? encoding, string message)
    {
        var context = _harness.Context("{}");
        context.Http.Request.ContentType = contentType;
        context.Http.Request.Headers.ContentEncoding = encoding;

        var error = ReadRequestStep.CheckMediaType(context.Http.Request);

        Assert.Equal((415, ErrorCodes.UnsupportedMediaType), (error?.Status, error?.Code));
        Assert.Contains(message, error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckMediaType_NoContentType_415()
    {
        var context = _harness.Context("{}");
        context.Http.Request.ContentType = null;

        Assert.Equal(415, ReadRequestStep.CheckMediaType(context.Http.Request)?.Status);
    }

    [Fact]
    public async Task RunAsync_ValidChatBody_SetsTheRequestModelAndStream()
    {
        var context = _harness.Context(StepHarness.ChatBody("mini", ",\"stream\":true"));

        var error = await ReadRequestStep.RunAsync(context, ProtocolEndpoint.OpenAIChatCompletions.Reader);

        Assert.Null(error);
        Assert.Equal((ApiEndpoint.ChatCompletions, "mini", true), (context.Request?.Endpoint, context.Request?.Model, context.Request?.Stream));
        Assert.Equal("mini", context.RequestedModel);
        Assert.True(context.Stream);
        Assert.Null(context.Model);
    }

    [Fact]
    public async Task RunAsync_ContentLengthOverTheLimit_413BeforeReading()
    {
        var context = _harness.Context("{}");
        context.Http.Request.ContentLength = Limit + 1;
        var body = new CountingEndlessStream();
        context.Http.Request.Body = body;

        var error = await ReadRequestStep.RunAsync(context, ProtocolEndpoint.OpenAIChatCompletions.Reader);

        Assert.Equal((413, ErrorCodes.RequestTooLarge), (error?.Status, error?.Code));
        Assert.Contains("1024 bytes", error!.Message, StringComparison.Ordinal);
        Assert.Equal(0, body.Served);
        Assert.Null(context.Request);
    }

    [Fact]
    public async Task RunAsync_ChunkedBodyPassingTheLimit_413AfterBoundedReading()
    {
        var context = _harness.Context();
        var body = new CountingEndlessStream();
        context.Http.Request.Body = body;
        Assert.Null(context.Http.Request.ContentLength);

        var error = await ReadRequestStep.RunAsync(context, ProtocolEndpoint.OpenAIChatCompletions.Reader);

        Assert.Equal((413, ErrorCodes.RequestTooLarge), (error?.Status, error?.Code));
        Assert.InRange(body.Served, Limit + 1, 64 * 1024);
        Assert.Null(context.Request);
    }

    [Fact]
    public async Task RunAsync_BodyAtTheLimit_Read()
    {
        string body = StepHarness.ChatBody();
        body = body[..^1] + ",\"user\":\"" + new string('u', (int)Limit - body.Length - 10) + "\"}";
        Assert.Equal(Limit, Encoding.UTF8.GetByteCount(body));
        var context = _harness.Context(body);
        context.Http.Request.ContentLength = null;

        Assert.Null(await ReadRequestStep.RunAsync(context, ProtocolEndpoint.OpenAIChatCompletions.Reader));
        Assert.NotNull(context.Request);
    }

    [Fact]
    public async Task RunAsync_ConnectionResetMidBody_ClientAborted()
    {
        var context = _harness.Context();
        context.Http.Request.Body = new CutStream("{\"model\":\"chat-"u8.ToArray());

        var error = await ReadRequestStep.RunAsync(context, ProtocolEndpoint.OpenAIChatCompletions.Reader);

        Assert.Equal(AuditReasons.ClientAborted, error?.Code);
        Assert.True(context.ClientAborted);
        Assert.Null(context.Request);
    }

    [Fact]
    public async Task RunAsync_CallerGoneBeforeTheBody_ClientAborted()
    {
        var context = _harness.Context(StepHarness.ChatBody());
        _harness.CallerLeaves(context);

        var error = await ReadRequestStep.RunAsync(context, ProtocolEndpoint.OpenAIChatCompletions.Reader);

        Assert.Equal(AuditReasons.ClientAborted, error?.Code);
        Assert.True(context.ClientAborted);
    }

    [Theory]
    [InlineData("{\"model\":\"chat-mini\",\"messages\":\"hi\"}", "messages")]
    [InlineData("{\"model\":\"chat-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":\"yes\"}", "stream")]
    [InlineData("{\"model\":\"chat-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":0}", "n")]
    [InlineData("{\"model\":\"chat-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1,\"max_completion_tokens\":1}", "max_completion_tokens")]
    [InlineData("{\"model\":42,\"messages\":[]}", "model")]
    public async Task RunAsync_InvalidField_400NamingIt(string body, string param)
    {
        var context = _harness.Context(body);

        var error = await ReadRequestStep.RunAsync(context, ProtocolEndpoint.OpenAIChatCompletions.Reader);

        Assert.Equal((400, ErrorCodes.InvalidRequest, param), (error?.Status, error?.Code, error?.Param));
        Assert.Null(context.Request);
        Assert.Null(context.RequestedModel);
    }

    [Fact]
    public async Task RunAsync_DuplicateKey_400()
    {
        var context = _harness.Context("{\"model\":\"chat-mini\",\"model\":\"chat-large\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

        var error = await ReadRequestStep.RunAsync(context, ProtocolEndpoint.OpenAIChatCompletions.Reader);

        Assert.Equal(400, error?.Status);
        Assert.Contains("duplicate", error!.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Null(context.Request);
    }

    [Fact]
    public async Task RunAsync_EmbeddingsReader_ParsesForItsEndpoint()
    {
        var context = _harness.Context("{\"model\":\"embed-small\",\"input\":\"a line\"}", ProtocolEndpoint.OpenAIEmbeddings);

        Assert.Null(await ReadRequestStep.RunAsync(context, ProtocolEndpoint.OpenAIEmbeddings.Reader));
        Assert.Equal(ApiEndpoint.Embeddings, context.Request?.Endpoint);
        Assert.False(context.Stream);
    }

    /// <summary>A body that never ends, counting the bytes it served.</summary>
    private sealed class CountingEndlessStream : Stream
    {
        public long Served { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int count = Math.Min(buffer.Length, 100);
            buffer.Span[..count].Fill((byte)' ');
            Served += count;
            return ValueTask.FromResult(count);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
