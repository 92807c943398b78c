using System;
using System.Linq;
using System.Reflection;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>Each status's kind is the core's (AbiManifestTests checks the names).</summary>
public class StatusTests
{
    private static readonly MethodInfo CoreKind = typeof(TlsConfig).Assembly
        .GetType("TlsBridge.Interop.Native", throwOnError: true)!
        .GetMethod("tlsb_status_kind", BindingFlags.Static | BindingFlags.NonPublic)!;

    /// <summary>Kind is the core's tlsb_status_kind for every failure, and the verification
    /// failures include a client certificate missing where one is required.</summary>
    [Fact]
    public void KindIsTheCoresForEveryFailure()
    {
        foreach (TlsStatus status in Enum.GetValues<TlsStatus>().Where(s => (int)s <= -10))
        {
            var e = new TlsException(status, "");
            Assert.Equal((int)CoreKind.Invoke(null, [(int)status])!, (int)e.Kind);
            Assert.True(Enum.IsDefined(e.Kind), $"{status}: kind {(int)e.Kind} has no name");
            Assert.Equal(e.Kind == TlsErrorKind.Verification, e.IsVerificationFailure);
        }
        Assert.Equal(TlsErrorKind.Verification, new TlsException(TlsStatus.PeerCertMissing, "").Kind);
        Assert.Equal(TlsErrorKind.Verification, new TlsException(TlsStatus.VerifyName, "").Kind);
        Assert.Equal(TlsErrorKind.Internal, new TlsException(TlsStatus.NoMemory, "").Kind);
        Assert.Equal(TlsErrorKind.Usage, new TlsException(TlsStatus.BufferTooSmall, "").Kind);
        Assert.Equal(TlsErrorKind.Transport, new TlsException(TlsStatus.Timeout, "").Kind);
        Assert.Equal(TlsErrorKind.Configuration, new TlsException(TlsStatus.OptionValue, "").Kind);
    }
}
