using Tollgate.Audit;
using Tollgate.Hosting;

namespace Tollgate.Endpoints;

/// <summary><c>/healthz</c> (the process is up) and <c>/readyz</c> (it can admit requests: ledger writable, not stopping).</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("{\"status\":\"ok\"}", "application/json"));
        app.MapGet("/readyz", (LedgerWriter ledger, ShutdownState shutdown) =>
        {
            string status = shutdown.IsStopping ? "stopping" : ledger.CanAccept ? "ready" : "ledger_unavailable";
            return Results.Text($"{{\"status\":\"{status}\"}}", "application/json", statusCode: status == "ready" ? 200 : 503);
        });
        return app;
    }
}
