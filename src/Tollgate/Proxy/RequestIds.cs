using System.Security.Cryptography;

namespace Tollgate.Proxy;

/// <summary>Request ids: the caller's <c>x-request-id</c> when it is sane, else a new one.</summary>
internal static class RequestIds
{
    public const string Header = "x-request-id";

    public static string FromCaller(string? supplied)
    {
        if (supplied is { Length: > 0 and <= 128 })
        {
            bool ok = true;
            foreach (char c in supplied)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
                {
                    ok = false;
                    break;
                }
            }

            if (ok)
            {
                return supplied;
            }
        }

        return New();
    }

    public static string New() => "req_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
}
