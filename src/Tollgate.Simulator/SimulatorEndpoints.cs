using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Tollgate.Simulator;

/// <summary>Serves a <see cref="SimulatorEngine"/> over HTTP (<c>tollgate simulate</c>).</summary>
public static class SimulatorEndpoints
{
    /// <summary>
    /// Maps the OpenAI routes (<c>POST /v1/chat/completions</c>, <c>POST /v1/completions</c>,
    /// <c>POST /v1/embeddings</c>, <c>GET /v1/models</c>), the Anthropic routes (<c>POST /v1/messages</c>,
    /// <c>POST /v1/messages/count_tokens</c>) and the control routes (<c>GET /_simulator/bills</c>,
    /// <c>GET /_simulator/bills/{clientRequestId}</c>, <c>POST /_simulator/release/{gate}</c>,
    /// <c>POST /_simulator/reset/{gate}</c>, <c>GET /_simulator/held/{gate}</c>).
    /// </summary>
    /// <param name="app">The route builder.</param>
    /// <param name="engine">The simulated model to serve.</param>
    /// <returns><paramref name="app"/>.</returns>
    public static IEndpointRouteBuilder MapSimulator(this IEndpointRouteBuilder app, SimulatorEngine engine)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(engine);

        app.MapPost("/v1/chat/completions", context => ServeAsync(context, engine, SimulatorEndpointKind.ChatCompletions));
        app.MapPost("/v1/completions", context => ServeAsync(context, engine, SimulatorEndpointKind.Completions));
        app.MapPost("/v1/embeddings", context => ServeAsync(context, engine, SimulatorEndpointKind.Embeddings));
        app.MapPost("/v1/responses", context => ServeAsync(context, engine, SimulatorEndpointKind.Responses));
        app.MapGet("/v1/responses/{id}", context => engine.Responder.ServeStoredAsync("GET", (string)context.Request.RouteValues["id"]!, false, new SimulatorKestrelResponse(context), context.RequestAborted));
        app.MapDelete("/v1/responses/{id}", context => engine.Responder.ServeStoredAsync("DELETE", (string)context.Request.RouteValues["id"]!, false, new SimulatorKestrelResponse(context), context.RequestAborted));
        app.MapPost("/v1/responses/{id}/cancel", context => engine.Responder.ServeStoredAsync("POST", (string)context.Request.RouteValues["id"]!, true, new SimulatorKestrelResponse(context), context.RequestAborted));
        app.MapGet("/v1/models", context => ServeAsync(context, engine, SimulatorEndpointKind.Models));
        app.MapPost("/v1/messages", context => ServeAsync(context, engine, SimulatorEndpointKind.Messages));
        app.MapPost("/v1/messages/count_tokens", context => ServeAsync(context, engine, SimulatorEndpointKind.MessagesCountTokens));

        var control = app.MapGroup("/_simulator");
        control.MapGet("/bills", context => context.Response.WriteAsJsonAsync(
            engine.Billing.All, SimulatorJsonContext.Default.IReadOnlyListSimulatorBill, cancellationToken: context.RequestAborted));
        control.MapGet("/bills/{clientRequestId}", context =>
        {
            var bill = engine.Billing.Find((string)context.Request.RouteValues["clientRequestId"]!);
            if (bill is null)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return context.Response.WriteAsJsonAsync(bill, SimulatorJsonContext.Default.SimulatorBill, cancellationToken: context.RequestAborted);
        });
        control.MapPost("/release/{gate}", context =>
        {
            engine.Barrier.Release(Gate(context));
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        });
        control.MapPost("/reset/{gate}", context =>
        {
            engine.Barrier.Reset(Gate(context));
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        });
        control.MapGet("/held/{gate}", context => context.Response.WriteAsJsonAsync(
            new SimulatorHeldCount(engine.Barrier.Waiting(Gate(context))),
            SimulatorJsonContext.Default.SimulatorHeldCount,
            cancellationToken: context.RequestAborted));
        return app;
    }

    private static string Gate(HttpContext context) => (string)context.Request.RouteValues["gate"]!;

    private static async Task ServeAsync(HttpContext context, SimulatorEngine engine, SimulatorEndpointKind kind)
    {
        var aborted = context.RequestAborted;
        string? clientRequestId = context.Request.Headers[SimulatorResponseHead.ClientRequestIdHeader].FirstOrDefault();
        using var body = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(body, aborted);
            await engine.Responder.ServeAsync(
                kind,
                body.GetBuffer().AsMemory(0, (int)body.Length),
                clientRequestId,
                new SimulatorKestrelResponse(context),
                aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; any bill is already settled.
        }
    }
}
