using System.Globalization;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace Tollgate.Simulator;

/// <summary>A simulated response written to a real Kestrel connection (<c>tollgate simulate</c>).</summary>
internal sealed class SimulatorKestrelResponse(HttpContext context) : ISimulatorResponse
{
    /// <inheritdoc/>
    public PipeWriter Start(SimulatorResponseHead head)
    {
        var response = context.Response;
        response.StatusCode = head.StatusCode;
        response.ContentType = head.ContentType + "; charset=utf-8";
        response.Headers[SimulatorResponseHead.RequestIdHeader] = head.RequestId;
        if (head.RetryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        if (head.ContentType == SimulatorResponseHead.EventStream)
        {
            response.Headers.CacheControl = "no-cache";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        }

        return response.BodyWriter;
    }

    /// <inheritdoc/>
    public void Abort() => context.Abort();

    /// <inheritdoc/>
    public ValueTask CompleteAsync() => new(context.Response.CompleteAsync());
}
