using System;
using System.Text;
using TlsBridge.Interop;

namespace TlsBridge;

/// <summary>Client or server.</summary>
public enum TlsRole
{
    Client = Native.TLSB_ROLE_CLIENT,
    Server = Native.TLSB_ROLE_SERVER,
}

/// <summary>A validated, immutable role plus options, built by the core from a
/// <see cref="TlsConfig"/>. Thread-safe; share one among many connections. Connections keep
/// the native context alive, so disposing it while streams are open is safe.</summary>
public sealed class TlsContext : IDisposable
{
    private readonly SafeContextHandle _handle;

    private TlsContext(TlsConfig config, TlsRole role)
    {
        ArgumentNullException.ThrowIfNull(config);
        TlsException.Check(Native.tlsb_context_new(config.Handle, (int)role, out _handle));
        Role = role;
        Log = config.Log;
        EffectiveSettings = Native.ContextSettings(_handle) ?? "";
    }

    /// <summary>Builds a client context; option errors throw <see cref="TlsException"/>
    /// (<see cref="TlsErrorKind.Configuration"/>) naming the option, the value and what is allowed.</summary>
    public static TlsContext CreateClient(TlsConfig config) => new(config, TlsRole.Client);

    /// <summary>Builds a server context (needs certificate and certificate-key).</summary>
    public static TlsContext CreateServer(TlsConfig config) => new(config, TlsRole.Server);

    public TlsRole Role { get; }

    /// <summary>What the options resolved to, as the core's "key: value" lines (role, tls,
    /// protocols, security-level, ciphers, ciphers-iana, verify-peer, ..., warning).</summary>
    public string EffectiveSettings { get; }

    /// <summary>Verifies a PEM chain (leaf first) offline with the policy a handshake with this
    /// context applies to its peer. <paramref name="peerName"/> null: the context's
    /// tls-target-name; "": no name check. Throws <see cref="TlsException"/>
    /// (TLSB_ERR_VERIFY or TLSB_ERR_VERIFY_NAME) with the reason when not trusted.</summary>
    public unsafe void Verify(ReadOnlySpan<byte> chainPem, string? peerName = null, DateTimeOffset? at = null)
    {
        long atTime = at?.ToUnixTimeSeconds() ?? 0;
        fixed (byte* p = chainPem)
            TlsException.Check(Native.tlsb_verify(Handle, p, chainPem.Length, Native.CString(peerName), atTime));
    }

    /// <inheritdoc cref="Verify(ReadOnlySpan{byte}, string?, DateTimeOffset?)"/>
    public void Verify(string chainPem, string? peerName = null, DateTimeOffset? at = null) =>
        Verify(Encoding.UTF8.GetBytes(chainPem), peerName, at);

    /// <summary>Listens on <paramref name="host"/> (null or "": all interfaces) and
    /// <paramref name="port"/> (0: any free port; see <see cref="TlsListener.Port"/>) for
    /// connections in this server context, as Java's <c>TlsContext.listen</c>.</summary>
    public TlsListener Listen(string? host, int port, int backlog = 128)
    {
        if (Role != TlsRole.Server)
            throw new InvalidOperationException("a client context cannot listen");
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return new TlsListener(this, host, port, backlog);
    }

    internal LogSink? Log { get; }

    internal SafeContextHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return _handle;
        }
    }

    public void Dispose() => _handle.Dispose();
}
