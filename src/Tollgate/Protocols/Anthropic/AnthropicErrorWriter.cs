using System.Buffers;
using System.Text.Json;
using Tollgate.Protocol;
using Tollgate.Proxy;

namespace Tollgate.Protocols.Anthropic;

/// <summary>
/// A <see cref="GatewayError"/> in Anthropic's shape: <c>{"type":"error","error":{"type","message"}}</c> with Anthropic's
/// error type for the status, the retry headers (<c>retry-after</c> in whole seconds, <c>x-should-retry</c>), the
/// caller's limits on limit refusals, and Tollgate's own reason code in <c>x-tollgate-error-code</c>; or, once a stream
/// has started, as its final <c>event: error</c>.
/// </summary>
internal static class AnthropicErrorWriter
{
    /// <summary>The header carrying Tollgate's reason code (Anthropic's error object has no code field).</summary>
    public const string CodeHeader = "x-tollgate-error-code";

    public static Task WriteAsync(HttpContext context, GatewayError error)
    {
        var response = context.Response;
        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        response.Headers[CodeHeader] = error.Code;
        RateLimitHeaders.WriteRetry(response.Headers, error.RetryAfter, error.ShouldRetry);
        if (error.Limits.Count > 0)
        {
            AnthropicRateLimitHeaders.Write(response.Headers, error.Limits, error.RefusedBy);
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        WriteBody(buffer, error);
        response.ContentLength = buffer.WrittenCount;
        return response.Body.WriteAsync(buffer.WrittenMemory, CancellationToken.None).AsTask();
    }

    /// <summary>An error after a stream has started: <c>event: error</c> with the error body.</summary>
    public static byte[] SseEvent(GatewayError error)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write("event: error\ndata: "u8);
        WriteBody(buffer, error);
        buffer.Write("\n\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Anthropic's error type for a status.</summary>
    public static string TypeFor(int status) => status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 or 529 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    private static void WriteBody(IBufferWriter<byte> buffer, GatewayError error)
    {
        using var writer = new Utf8JsonWriter(buffer);
        writer.WriteStartObject();
        writer.WriteString("type", "error");
        writer.WriteStartObject("error");
        writer.WriteString("type", TypeFor(error.Status));
        writer.WriteString("message", error.Message);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
