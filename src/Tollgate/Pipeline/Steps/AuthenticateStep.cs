using Tollgate.Identity;
using Tollgate.Protocol;

namespace Tollgate.Pipeline.Steps;

/// <summary>
/// Step 2: who is calling. The key comes from <c>Authorization: Bearer</c> or <c>x-api-key</c> and is checked on
/// every request, so a revocation, expiry, rotation or plan change applies to the very next one.
/// </summary>
internal sealed class AuthenticateStep(ApiKeyAuthenticator authenticator)
{
    public async ValueTask<GatewayError?> RunAsync(RequestContext context)
    {
        var headers = context.Http.Request.Headers;
        var result = await authenticator.AuthenticateAsync(headers.Authorization, headers["x-api-key"], context.Http.RequestAborted).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            context.KeyId = result.KeyId;
            return new GatewayError(401, ErrorTypes.Authentication, ErrorCodes.InvalidApiKey, result.FailureMessage!);
        }

        context.Caller = result.Identity;
        return null;
    }
}
