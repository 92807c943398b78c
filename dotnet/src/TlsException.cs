using System;
using System.IO;
using TlsBridge.Interop;

namespace TlsBridge;

/// <summary>The core's status codes. One rule names them: the C name without <c>TLSB_</c> and
/// <c>ERR_</c>, in PascalCase (TLSB_ERR_OPTION_VALUE: <see cref="OptionValue"/>);
/// <see cref="TlsException.StatusName"/> gives the C name (<c>tlsb_status_name()</c>).</summary>
public enum TlsStatus
{
    Ok = 0,
    WantRead = -1,
    WantWrite = -2,
    Closed = -3,

    Argument = -10,
    HandleClosed = -11,
    NoMemory = -12,
    State = -13,

    OptionUnknown = -20,
    OptionValue = -21,
    OptionConflict = -22,
    File = -23,
    KeyMismatch = -24,
    CipherNone = -25,
    CertRequired = -26,
    ProtocolNone = -27,

    ProtocolVersion = -30,
    Handshake = -31,
    Verify = -32,
    VerifyName = -33,
    PeerCertMissing = -34,
    Tls = -35,

    Io = -40,
    Timeout = -41,
    Connect = -42,
    Resolve = -43,
    PeerReset = -44,

    BufferTooSmall = -50,
    Internal = -99,
}

/// <summary>What a failure is about, so that callers can catch by kind without listing codes:
/// the core's TLSB_KIND_* (<c>tlsb_status_kind()</c>), the one table every face maps by.</summary>
public enum TlsErrorKind
{
    /// <summary>Bad arguments, closed handles, calls out of order, a buffer too small.</summary>
    Usage = 3,
    /// <summary>The options: unknown names, bad values, conflicts, files, keys.</summary>
    Configuration = 4,
    /// <summary>The handshake or TLS itself: versions, alerts, bad messages.</summary>
    Protocol = 5,
    /// <summary>The peer's certificate: chain, name, or none sent where one is required.</summary>
    Verification = 6,
    /// <summary>The network: I/O errors, timeouts, connect, resolve, peer vanished.</summary>
    Transport = 7,
    /// <summary>Out of memory, OpenSSL failures that are not the peer's doing.</summary>
    Internal = 8,
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

    /// <summary>The core's kind of <see cref="Status"/>.</summary>
    public TlsErrorKind Kind => (TlsErrorKind)Native.tlsb_status_kind((int)Status);

    /// <summary>True when the peer's certificate was refused or missing (<see cref="TlsErrorKind.Verification"/>).</summary>
    public bool IsVerificationFailure => Kind == TlsErrorKind.Verification;

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
