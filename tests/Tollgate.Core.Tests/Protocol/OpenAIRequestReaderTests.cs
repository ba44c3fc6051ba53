using System.Text;
using System.Text.Json.Nodes;
using Tollgate.Core.Tests.Tokenization;
using Tollgate.Protocol;
using Tollgate.Tokenization;

namespace Tollgate.Core.Tests.Protocol;

public sealed class OpenAIRequestReaderTests
{
    private const string Chat = """{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","name":"ada","content":[{"type":"text","text":"Count the tiles."}]}]}""";
    private const string Completion = """{"model":"m","prompt":["Once upon a time","there was a gateway"],"max_tokens":7}""";
    private const string Embedding = """{"model":"m","input":["first line","second line"]}""";

    public static TheoryData<ApiEndpoint, string> Bodies => new()
    {
        { ApiEndpoint.ChatCompletions, Chat },
        { ApiEndpoint.Completions, Completion },
        { ApiEndpoint.Embeddings, Embedding },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void TryRead_ValidBody_ReadsTheRequestForItsEndpoint(ApiEndpoint endpoint, string body)
    {
        var reader = OpenAIRequestReader.For(endpoint);

        Assert.True(reader.TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal));

        using (request)
        {
            Assert.Null(refusal);
            Assert.Equal((endpoint, "m"), (request!.Endpoint, request.Model));
            Assert.Same(reader, request.Reader);
            Assert.Equal(Encoding.UTF8.GetBytes(body), request.Body.ToArray());
        }
    }

    [Theory]
    [InlineData(ApiEndpoint.ChatCompletions, """{"model":"m","messages":"hello"}""", "messages")]
    [InlineData(ApiEndpoint.ChatCompletions, """{"messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData(ApiEndpoint.Completions, """{"model":"m","prompt":"p","max_tokens":"7"}""", "max_tokens")]
    [InlineData(ApiEndpoint.Embeddings, """{"model":"m","input":true}""", "input")]
    public void TryRead_WrongField_Refuses400NamingIt(ApiEndpoint endpoint, string body, string param)
    {
        Assert.False(OpenAIRequestReader.For(endpoint).TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal));

        Assert.Null(request);
        Assert.Equal((400, ErrorCodes.InvalidRequest, param), (refusal!.Status, refusal.Code, refusal.Param));
    }

    [Theory]
    [InlineData(ApiEndpoint.ChatCompletions)]
    [InlineData(ApiEndpoint.Completions)]
    [InlineData(ApiEndpoint.Embeddings)]
    public void TryRead_NotJson_Refuses400(ApiEndpoint endpoint)
    {
        Assert.False(OpenAIRequestReader.For(endpoint).TryRead("{\"model\":"u8.ToArray(), out _, out var refusal));

        Assert.Equal(400, refusal!.Status);
    }

    [Fact]
    public void For_EachEndpoint_TheReaderOfThatEndpoint()
    {
        Assert.Same(OpenAIRequestReader.ChatCompletions, OpenAIRequestReader.For(ApiEndpoint.ChatCompletions));
        Assert.Same(OpenAIRequestReader.Completions, OpenAIRequestReader.For(ApiEndpoint.Completions));
        Assert.Same(OpenAIRequestReader.Embeddings, OpenAIRequestReader.For(ApiEndpoint.Embeddings));
        Assert.Equal(ApiEndpoint.Embeddings, OpenAIRequestReader.Embeddings.Endpoint);
    }

    [Fact]
    public void TryRead_ChatFileParts_CountedAsDocumentBlocks()
    {
        const string Body = """{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"Compare."},{"type":"file","file":{"file_id":"file-1"}}]},{"role":"user","content":[{"type":"file","file":{"file_data":"data:application/pdf;base64,AAAA"}}]}]}""";

        var request = Read(ApiEndpoint.ChatCompletions, Body);

        Assert.Equal(2, request.DocumentBlocks);
        Assert.Equal(0, Read(ApiEndpoint.ChatCompletions, Chat).DocumentBlocks);
    }

    [Theory]
    [InlineData(ApiEndpoint.ChatCompletions, """{"model":"m","messages":[{"role":"user","content":"Say it."},{"role":"assistant","audio":{"id":"audio_1"}},{"role":"user","content":"Again."}]}""", "messages[1].audio", ErrorCodes.ParamNotAllowed)]
    [InlineData(ApiEndpoint.Completions, """{"model":"m","prompt":["a",{"text":"b"}]}""", "prompt[1]", ErrorCodes.InvalidRequest)]
    [InlineData(ApiEndpoint.Completions, """{"model":"m","prompt":[[1,2,-3]]}""", "prompt[0]", ErrorCodes.InvalidRequest)]
    [InlineData(ApiEndpoint.Completions, """{"model":"m","prompt":"a","suffix":7}""", "suffix", ErrorCodes.InvalidRequest)]
    [InlineData(ApiEndpoint.Embeddings, """{"model":"m","input":[["a long text"]]}""", "input[0]", ErrorCodes.InvalidRequest)]
    [InlineData(ApiEndpoint.Embeddings, """{"model":"m","input":[true]}""", "input[0]", ErrorCodes.InvalidRequest)]
    public void TryRead_InputTheCountCannotRead_Refused400NamingIt(ApiEndpoint endpoint, string body, string param, string code)
    {
        Assert.False(OpenAIRequestReader.For(endpoint).TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal));

        Assert.Null(request);
        Assert.Equal((400, code, param), (refusal!.Status, refusal.Code, refusal.Param));
    }

    [Theory]
    [InlineData(ApiEndpoint.Completions, """{"model":"m","prompt":["a",12,[1,2,3]],"suffix":null}""")]
    [InlineData(ApiEndpoint.Embeddings, """{"model":"m","input":[[1,2],[3]]}""")]
    public void TryRead_TextsAndTokenIds_Accepted(ApiEndpoint endpoint, string body) => Read(endpoint, body);

    [Fact]
    public void TryRead_ChatInputAudioPart_Refused400ParamNotAllowedNamingThePart()
    {
        const string Body = """{"model":"m","messages":[{"role":"system","content":"Transcribe."},{"role":"user","content":[{"type":"text","text":"Here:"},{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}}]}]}""";

        Assert.False(OpenAIRequestReader.ChatCompletions.TryRead(Encoding.UTF8.GetBytes(Body), out var request, out var refusal));

        Assert.Null(request);
        Assert.Equal((400, ErrorCodes.ParamNotAllowed, "messages[1].content[1]"), (refusal!.Status, refusal.Code, refusal.Param));
    }

    [Fact]
    public void CountInput_Chat_EqualsPromptTokenCounter()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.O200kBase);
        using var request = Read(ApiEndpoint.ChatCompletions, Chat);

        long expected = PromptTokenCounter.CountChat(request.Document.RootElement, counter);

        Assert.True(expected > 10);
        Assert.Equal(expected, request.Reader.CountInput(request, counter, long.MaxValue));
    }

    [Fact]
    public void CountInput_Completion_EqualsPromptTokenCounter()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.Cl100kBase);
        using var request = Read(ApiEndpoint.Completions, Completion);

        long expected = PromptTokenCounter.CountPrompt(request.Document.RootElement, counter);

        Assert.True(expected > 5);
        Assert.Equal(expected, request.Reader.CountInput(request, counter, long.MaxValue));
    }

    [Fact]
    public void CountInput_Embedding_EqualsPromptTokenCounter()
    {
        var counter = TokenCounterRegistry.Shared.Get(TokenEncoding.Cl100kBase);
        using var request = Read(ApiEndpoint.Embeddings, Embedding);

        long expected = PromptTokenCounter.CountEmbeddingInput(request.Document.RootElement, counter);

        Assert.True(expected > 2);
        Assert.Equal(expected, request.Reader.CountInput(request, counter, long.MaxValue));
    }

    [Theory]
    [InlineData(ApiEndpoint.ChatCompletions)]
    [InlineData(ApiEndpoint.Completions)]
    [InlineData(ApiEndpoint.Embeddings)]
    public void CountInput_StopAfter_PassesItAfterBoundedWork(ApiEndpoint endpoint)
    {
        var random = new Random(11);
        var texts = new JsonArray();
        for (int i = 0; i < 16; i++)
        {
            texts.Add(TestTexts.Letters(random, 1 << 16));
        }

        var body = new JsonObject { ["model"] = "m" };
        switch (endpoint)
        {
            case ApiEndpoint.ChatCompletions:
                body["messages"] = new JsonArray([.. texts.Select(t => (JsonNode)new JsonObject { ["role"] = "user", ["content"] = t!.DeepClone() })]);
                break;
            case ApiEndpoint.Completions:
                body["prompt"] = texts;
                break;
            default:
                body["input"] = texts;
                break;
        }

        using var request = Read(endpoint, body.ToJsonString());
        var counter = RecordingTokenizer.Wrap(TokenEncoding.O200kBase, out var recorder);
        const long Cap = 1_000;

        long count = request.CountInput(counter, stopAfter: Cap);

        Assert.True(count > Cap);
        Assert.InRange(recorder.CharactersCounted, 1, (Cap + 1) * TokenCounter.PieceLength);
    }

    [Fact]
    public void InputText_Chat_MessageContentsAndTextParts()
    {
        using var request = Read(ApiEndpoint.ChatCompletions, Chat);

        Assert.Equal("Be brief.\nCount the tiles.\n", request.InputText(1_000));
    }

    [Fact]
    public void InputText_CompletionAndEmbedding_PromptAndInput()
    {
        using var completion = Read(ApiEndpoint.Completions, Completion);
        using var embedding = Read(ApiEndpoint.Embeddings, Embedding);

        Assert.Equal("Once upon a time\nthere was a gateway\n", completion.InputText());
        Assert.Equal("first line\nsecond line\n", embedding.InputText());
    }

    [Fact]
    public void InputText_MaxChars_Truncates()
    {
        using var request = Read(ApiEndpoint.ChatCompletions, Chat);

        Assert.Equal("Be br", request.InputText(5));
        Assert.Equal("Be brief.\n", request.InputText(10));
        Assert.Equal("Be brief.\nC", request.InputText(11));
    }

    private static ModelRequest Read(ApiEndpoint endpoint, string body)
    {
        Assert.True(OpenAIRequestReader.For(endpoint).TryRead(Encoding.UTF8.GetBytes(body), out var request, out var refusal), refusal?.Message);
        return request!;
    }
}
