using Microsoft.AspNetCore.Http;
using Tollgate.Protocol;

namespace Tollgate.Pipeline;

/// <summary>
/// The caller's headers an upstream call carries on: those its protocol forwards verbatim (Anthropic's version and
/// betas) and the W3C trace context. The caller's credentials never are.
/// </summary>
/// <remarks>
/// The gateway records no traces of its own, so it starts no Activity for a request and HttpClient adds no trace
/// header; a caller's <c>traceparent</c> and <c>tracestate</c> reach the upstream unchanged, so a trace that spans the
/// caller and the model server is not broken by the gateway in between.
/// </remarks>
internal static class CallerHeaders
{
    private static readonly string[] s_traceContext = ["traceparent", "tracestate"];

    /// <summary>Copies the headers of <paramref name="caller"/> that <paramref name="protocol"/> forwards, and the trace context, onto <paramref name="message"/>.</summary>
    public static void CopyTo(IHeaderDictionary caller, HttpRequestMessage message, IUpstreamProtocol protocol)
    {
        Copy(caller, message, protocol.ForwardedHeaders);
        CopyTraceContext(caller, message);
    }

    /// <summary>Copies the trace context of <paramref name="caller"/> onto <paramref name="message"/> (a call that speaks no protocol's body).</summary>
    public static void CopyTraceContext(IHeaderDictionary caller, HttpRequestMessage message) => Copy(caller, message, s_traceContext);

    private static void Copy(IHeaderDictionary caller, HttpRequestMessage message, IReadOnlyList<string> names)
    {
        for (int i = 0; i < names.Count; i++)
        {
            if (caller.TryGetValue(names[i], out var values))
            {
                message.Headers.TryAddWithoutValidation(names[i], (IEnumerable<string>)values);
            }
        }
    }
}
