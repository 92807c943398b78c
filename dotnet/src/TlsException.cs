using System;
using System.IO;
using TlsBridge.Interop;

namespace TlsBridge;

/// <summary>The core's status codes; the member names are the header's, so that a code reads
/// the same in C, Java and C# (and matches <c>tlsb_status_name()</c>).</summary>
public enum TlsStatus
{
    TLSB_OK = 0,
    TLSB_WANT_READ = -1,
    TLSB_WANT_WRITE = -2,
    TLSB_CLOSED = -3,

    TLSB_ERR_ARGUMENT = -10,
    TLSB_ERR_HANDLE_CLOSED = -11,
    TLSB_ERR_NO_MEMORY = -12,
    TLSB_ERR_STATE = -13,

    TLSB_ERR_OPTION_UNKNOWN = -20,
    TLSB_ERR_OPTION_VALUE = -21,
    TLSB_ERR_OPTION_CONFLICT = -22,
    TLSB_ERR_FILE = -23,
    TLSB_ERR_KEY_MISMATCH = -24,
    TLSB_ERR_CIPHER_NONE = -25,
    TLSB_ERR_CERT_REQUIRED = -26,
    TLSB_ERR_PROTOCOL_NONE = -27,

    TLSB_ERR_PROTOCOL_VERSION = -30,
    TLSB_ERR_HANDSHAKE = -31,
    TLSB_ERR_VERIFY = -32,
    TLSB_ERR_VERIFY_NAME = -33,
    TLSB_ERR_PEER_CERT_MISSING = -34,
    TLSB_ERR_TLS = -35,

    TLSB_ERR_IO = -40,
    TLSB_ERR_TIMEOUT = -41,
    TLSB_ERR_CONNECT = -42,
    TLSB_ERR_RESOLVE = -43,
    TLSB_ERR_PEER_RESET = -44,

    TLSB_ERR_BUFFER_TOO_SMALL = -50,
    TLSB_ERR_INTERNAL = -99,
}

/// <summary>What a status is about, so that callers can catch by kind without listing codes.</summary>
public enum TlsErrorKind
{
    /// <summary>Bad arguments, closed handles, calls out of order, resources.</summary>
    Usage,
    /// <summary>The options: unknown names, bad values, conflicts, files, keys.</summary>
    Configuration,
    /// <summary>The handshake or the TLS protocol: versions, alerts, certificate verification.</summary>
    Protocol,
    /// <summary>The transport: I/O errors, timeouts, connect, resolve, peer vanished.</summary>
    Transport,
}

/// <summary>Every failure the core reports: its status code and its message, unchanged.</summary>
public class TlsException : IOException
{
    public TlsException(TlsStatus status, string message) : base(message, (int)status)
    {
        Status = status;
    }

    /// <summary>The core's status code.</summary>
    public TlsStatus Status { get; }

    /// <summary>The symbolic name, as <c>tlsb_status_name()</c> gives it (e.g. "TLSB_ERR_VERIFY").</summary>
    public string StatusName => Native.StatusName((int)Status);

    public TlsErrorKind Kind => KindOf(Status);

    /// <summary>True for the two certificate verification failures (chain, name).</summary>
    public bool IsVerificationFailure => Status is TlsStatus.TLSB_ERR_VERIFY or TlsStatus.TLSB_ERR_VERIFY_NAME;

    private static TlsErrorKind KindOf(TlsStatus status) => (int)status switch
    {
        <= -20 and > -30 => TlsErrorKind.Configuration,
        <= -30 and > -40 => TlsErrorKind.Protocol,
        <= -40 and > -50 => TlsErrorKind.Transport,
        _ => TlsErrorKind.Usage,
    };

    /// <summary>The exception for a failed native call. Must run on the calling thread right
    /// after the call, before anything else touches the core: the message is thread-local.</summary>
    internal static TlsException FromLastError(int rc)
    {
        (int status, string message) = Native.LastError();
        // A call can fail without setting the thread-local error (e.g. a NULL out-parameter
        // guard); the return code is then all there is.
        if (status != rc || message.Length == 0)
            return new TlsException((TlsStatus)rc, Native.StatusName(rc));
        return new TlsException((TlsStatus)rc, message);
    }

    /// <summary>Throws for a negative status of a call that returns 0 on success.</summary>
    internal static void Check(int rc)
    {
        if (rc < 0)
            throw FromLastError(rc);
    }
}
