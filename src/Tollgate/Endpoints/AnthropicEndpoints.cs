using System.Buffers;
using System.Text.Json;
using Tollgate.Configuration;
using Tollgate.Pipeline;
using Tollgate.Protocol;
using Tollgate.Protocols;
using Tollgate.Protocols.Anthropic;
using Tollgate.Proxy;

namespace Tollgate.Endpoints;

/// <summary>
/// The Anthropic Messages API: <c>POST /v1/messages</c> (plain and streaming; Claude Code's <c>?beta=true</c> is the
/// same route), <c>POST /v1/messages/count_tokens</c>, and the Anthropic shape of the model list for callers that send
/// <c>anthropic-version</c>. Every answer carries Anthropic's <c>request-id</c> header (the gateway's request id).
/// </summary>
internal static class AnthropicEndpoints
{
    /// <summary>Anthropic's request id header.</summary>
    public const string RequestIdHeader = "request-id";

    public static IEndpointRouteBuilder MapAnthropicApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1");
        v1.MapPost("/messages", (HttpContext http, RequestPipeline pipeline) =>
        {
            EchoRequestId(http);
            return pipeline.HandleAsync(http, ProtocolEndpoint.AnthropicMessages);
        });
        v1.MapPost("/messages/count_tokens", (HttpContext http, RequestPipeline pipeline, CountTokensHandler handler) =>
        {
            EchoRequestId(http);
            return pipeline.HandleAuthenticatedAsync(http, ProtocolEndpoint.AnthropicCountTokens.AuditName,
                handler.HandleAsync, AnthropicCallerProtocol.Instance);
        });
        return app;
    }

    /// <summary>Whether the caller speaks Anthropic's API (it sends <c>anthropic-version</c>, as every Anthropic SDK does).</summary>
    public static bool IsAnthropicCaller(HttpRequest request) => request.Headers.ContainsKey(AnthropicUpstreamProtocol.VersionHeader);

    /// <summary>Sends the gateway's request id as Anthropic's <c>request-id</c> too, on whatever answer goes out.</summary>
    public static void EchoRequestId(HttpContext http) => http.Response.OnStarting(static state =>
    {
        var response = (HttpResponse)state;
        if (response.Headers.TryGetValue(RequestIds.Header, out var id))
        {
            response.Headers[RequestIdHeader] = id;
        }

        return Task.CompletedTask;
    }, http.Response);

    /// <summary><c>GET /v1/models</c> in Anthropic's shape: <c>{"data":[{"type":"model",…}],"has_more":false,…}</c>.</summary>
    public static async Task<GatewayError?> WriteModelsAsync(RequestContext exchange, GatewayConfig config)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        string? first = null, last = null;
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("data");
            foreach (var model in config.Models)
            {
                if (config.IsAllowed(exchange.Caller!.Plan, model))
                {
                    WriteModel(writer, model);
                    first ??= model.Name;
                    last = model.Name;
                }
            }

            writer.WriteEndArray();
            writer.WriteBoolean("has_more", false);
            WriteStringOrNull(writer, "first_id", first);
            WriteStringOrNull(writer, "last_id", last);
            writer.WriteEndObject();
        }

        await WriteJsonAsync(exchange, buffer).ConfigureAwait(false);
        return null;
    }

    /// <summary><c>GET /v1/models/{id}</c> in Anthropic's shape; a model outside the plan is a 404 like a missing one.</summary>
    public static async Task<GatewayError?> WriteModelAsync(RequestContext exchange, string id, GatewayConfig config)
    {
        exchange.RequestedModel = id;
        if (!config.TryGetModel(id, out var model) || !config.IsAllowed(exchange.Caller!.Plan, model))
        {
            return new GatewayError(404, ErrorTypes.InvalidRequest, ErrorCodes.ModelNotFound, $"model: {Display.Bounded(id, 80)}", "model");
        }

        exchange.Model = model;
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteModel(writer, model);
        }

        await WriteJsonAsync(exchange, buffer).ConfigureAwait(false);
        return null;
    }

    private static void WriteModel(Utf8JsonWriter writer, ModelDefinition model)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "model");
        writer.WriteString("id", model.Name);
        writer.WriteString("display_name", model.Name);
        writer.WriteString("created_at", "1970-01-01T00:00:00Z");
        writer.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private static Task WriteJsonAsync(RequestContext exchange, ArrayBufferWriter<byte> buffer)
    {
        var response = exchange.Http.Response;
        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenCount;
        return response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }
}
