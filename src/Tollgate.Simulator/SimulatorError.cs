namespace Tollgate.Simulator;

/// <summary>An OpenAI-shaped error response: <c>{"error":{"message","type","param","code"}}</c> with its status.</summary>
internal sealed record SimulatorError(int StatusCode, string Type, string? Code, string? Param, string Message)
{
    /// <summary>The 429 of <c>[[sim:rate_limit]]</c>.</summary>
    public static SimulatorError RateLimited { get; } = new(
        429,
        "requests",
        "rate_limit_exceeded",
        null,
        "Rate limit reached for requests (simulated). Please try again in 7s.");

    /// <summary>The 500 of <c>[[sim:error]]</c>.</summary>
    public static SimulatorError ServerError { get; } = new(
        500,
        "server_error",
        null,
        null,
        "The server had an error while processing your request (simulated).");

    /// <summary>A 400 about the request body.</summary>
    public static SimulatorError BadRequest(string message, string? param = null) =>
        new(400, "invalid_request_error", null, param, message);

    /// <summary>A 404 for a stored response the simulator does not hold.</summary>
    public static SimulatorError ResponseNotFound(string id, string? param) =>
        new(404, "invalid_request_error", null, param, $"Response with id '{id}' not found.");

    /// <summary>A 404 for a route the simulator does not serve.</summary>
    public static SimulatorError UnknownUrl(string method, string path) =>
        new(404, "invalid_request_error", "unknown_url", null, $"Unknown request URL: {method} {path}.");
}
