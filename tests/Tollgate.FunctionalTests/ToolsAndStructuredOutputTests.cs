using System.ComponentModel;
using System.Text.Json;
using Json.Schema;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;
using ChatResponseFormat = OpenAI.Chat.ChatResponseFormat;
using Tollgate.Audit;
using Tollgate.FunctionalTests.Infrastructure;
using Tollgate.Pricing;

namespace Tollgate.FunctionalTests;

/// <summary>
/// Function calling and structured output through the gateway on its embedded default, with the official OpenAI .NET
/// client and Microsoft.Extensions.AI as an application uses them: tools get called with arguments that fit their
/// schemas, structured output deserializes, agent loops finish, and every turn is billed exactly.
/// </summary>
public sealed class ToolsAndStructuredOutputTests : IAsyncLifetime
{
    private const string WeatherParameters = """
        {"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":5}},
         "required":["city","unit","days"],"additionalProperties":false}
        """;

    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task OpenAIClient_RequiredTool_CallFitsTheSchema_LedgerMatchesBill()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetChatClient("sim-mini");
        var options = new ChatCompletionOptions { ToolChoice = ChatToolChoice.CreateRequiredChoice() };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "The forecast", BinaryData.FromString(WeatherParameters), functionSchemaIsStrict: true));
        string requestId = ids.Use();

        ChatCompletion completion = (await client.CompleteChatAsync([new UserChatMessage("What should I pack?")], options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        AssertFits(WeatherParameters, call.FunctionArguments.ToString());
        await AssertBilledExactlyAsync(requestId, completion.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task OpenAIClient_StreamedToolCall_ArgumentsAssembleAndAreBilled()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetChatClient("sim-mini");
        var options = new ChatCompletionOptions { ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather") };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "The forecast", BinaryData.FromString(WeatherParameters)));
        string requestId = ids.Use();

        string? name = null;
        var arguments = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Stream the forecast.")], options))
        {
            foreach (var toolUpdate in update.ToolCallUpdates)
            {
                name ??= toolUpdate.FunctionName;
                arguments.Append(toolUpdate.FunctionArgumentsUpdate?.ToString());
            }

            if (update.FinishReason is { } reason)
            {
                finish = reason;
            }
        }

        Assert.Equal(("get_weather", ChatFinishReason.ToolCalls), (name, finish));
        AssertFits(WeatherParameters, arguments.ToString());
        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        Assert.Equal(bill.CompletionTokens, (await _gateway.AuditAsync(requestId)).Usage.OutputTokens);
    }

    [Fact]
    public async Task OpenAIClient_JsonSchemaResponseFormat_ContentFits()
    {
        var ids = new RequestIdPolicy();
        var client = _gateway.OpenAI(await _gateway.CreateKeyAsync(), ids).GetChatClient("sim-mini");
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("forecast", BinaryData.FromString(WeatherParameters), jsonSchemaIsStrict: true),
        };
        string requestId = ids.Use();

        ChatCompletion completion = (await client.CompleteChatAsync([new UserChatMessage("Forecast as JSON.")], options)).Value;

        AssertFits(WeatherParameters, completion.Content[0].Text);
        await AssertBilledExactlyAsync(requestId, completion.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task ExtensionsAI_FunctionInvocationLoop_CallsTheFunctionThenAnswers()
    {
        string key = await _gateway.CreateKeyAsync();
        var cities = new List<string>();
        var weather = AIFunctionFactory.Create(
            ([Description("The city")] string city) =>
            {
                cities.Add(city);
                return $"Sunny in {city}, 24 degrees";
            },
            "get_weather",
            "Gets the weather of a city");
        using IChatClient chat = _gateway.OpenAI(key).GetChatClient("sim-mini").AsIChatClient()
            .AsBuilder().UseFunctionInvocation().Build();

        var response = await chat.GetResponseAsync(
            """What is the weather in Paris? [[sim:call=get_weather {"city":"Paris"}]] [[sim:say=It is sunny in Paris.]]""",
            new ChatOptions { Tools = [weather] });

        Assert.Equal(["Paris"], cities);
        Assert.Equal("It is sunny in Paris.", response.Text);
        var records = (await _gateway.AuditRecordsAsync()).Where(r => r.Decision == Decisions.Allowed).ToList();
        Assert.Equal(2, records.Count);
        foreach (var record in records)
        {
            var bill = _gateway.Simulator.Billing.Find(record.RequestId)!;
            Assert.Equal(new TokenUsage(bill.PromptTokens, bill.CachedTokens, bill.CompletionTokens, bill.ReasoningTokens), record.Usage);
        }
    }

    [Fact]
    public async Task ExtensionsAI_GetResponseOfT_DeserializesTheStructuredOutput()
    {
        using IChatClient chat = _gateway.OpenAI(await _gateway.CreateKeyAsync()).GetChatClient("sim-mini").AsIChatClient();

        var response = await chat.GetResponseAsync<Forecast>("Give me the forecast for Oslo.");

        Assert.True(response.TryGetResult(out var forecast), response.Text);
        Assert.False(string.IsNullOrEmpty(forecast!.City));
        Assert.NotNull(forecast.Days);
    }

    private async Task AssertBilledExactlyAsync(string requestId, int reportedOutput)
    {
        var bill = _gateway.Simulator.Billing.Find(requestId)!;
        var record = await _gateway.AuditAsync(requestId);
        Assert.Equal(bill.CompletionTokens, reportedOutput);
        Assert.Equal(new TokenUsage(bill.PromptTokens, bill.CachedTokens, bill.CompletionTokens, bill.ReasoningTokens), record.Usage);
        Assert.Equal(UsageSource.Reported, record.UsageSource);
    }

    internal static void AssertFits(string schemaText, string json)
    {
        using var document = JsonDocument.Parse(json);
        var result = JsonSchema.FromText(schemaText).Evaluate(document.RootElement);
        Assert.True(result.IsValid, $"{json} does not fit {schemaText}");
    }

    /// <summary>A structured answer, as an application declares it.</summary>
    public sealed record Forecast(string City, int Degrees, bool Sunny, List<string> Days);
}
