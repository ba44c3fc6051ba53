using System.Buffers.Text;
using System.Security.Cryptography;

namespace Tollgate.Identity;

/// <summary>
/// Tollgate API keys: <c>tgk_</c> followed by 43 base64url characters of 32 random bytes (256 bits). The prefix
/// lets secret scanners recognise a leaked key. Key ids (<c>key_</c> + 20 hex digits) are public and never grant access.
/// </summary>
public static class ApiKeyFormat
{
    /// <summary>The prefix of every secret key.</summary>
    public const string SecretPrefix = "tgk_";

    /// <summary>The prefix of every key id.</summary>
    public const string IdPrefix = "key_";

    /// <summary>The length of a secret key.</summary>
    public const int SecretLength = 4 + 43;

    /// <summary>Creates a new secret key from the operating system's CSPRNG.</summary>
    public static string NewSecret()
    {
        Span<byte> bytes = stackalloc byte[32];
        RandomNumberGenerator.Fill(bytes);
        return SecretPrefix + Base64Url.EncodeToString(bytes);
    }

    /// <summary>Creates a new key id.</summary>
    public static string NewId() => IdPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));

    /// <summary>Whether <paramref name="candidate"/> has the shape of a key (the check before any lookup).</summary>
    public static bool LooksLikeSecret(ReadOnlySpan<char> candidate)
    {
        if (candidate.Length != SecretLength || !candidate.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (char c in candidate[SecretPrefix.Length..])
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
            {
                return false;
            }
        }

        return true;
    }
}
