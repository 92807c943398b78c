// One SafeHandle per C handle. The runtime AddRefs them across every P/Invoke, so a Dispose
// racing a native call defers the free until the call returns; the critical finalizer frees
// the native memory of objects nobody disposed.
using System;
using System.Runtime.InteropServices;

namespace TlsBridge.Interop;

internal abstract class TlsbSafeHandle : SafeHandle
{
    protected TlsbSafeHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    public override bool IsInvalid => handle == IntPtr.Zero;
}

internal sealed class SafeConfigHandle : TlsbSafeHandle
{
    protected override bool ReleaseHandle()
    {
        Native.tlsb_config_free(handle);
        return true;
    }
}

internal sealed class SafeContextHandle : TlsbSafeHandle
{
    protected override bool ReleaseHandle()
    {
        Native.tlsb_context_free(handle);
        return true;
    }
}

internal sealed class SafeConnHandle : TlsbSafeHandle
{
    protected override bool ReleaseHandle()
    {
        Native.tlsb_conn_free(handle);
        return true;
    }
}

internal sealed class SafeListenerHandle : TlsbSafeHandle
{
    protected override bool ReleaseHandle()
    {
        Native.tlsb_listener_free(handle);
        return true;
    }
}
