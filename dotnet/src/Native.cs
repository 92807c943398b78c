// Every P/Invoke of the assembly lives in this file, one declaration per export of
// core/tlsbridge.abi (dotnet-tests/AbiManifestTests.cs checks them against it by reflection),
// including the few the C# classes do not need (tlsb_conn_set_timeout, tlsb_conn_pending).
//
// Manifest type -> C# type:
//   i32 int, i64 long, void void, ptr SafeHandle subclass (IntPtr in the *_free calls that
//   SafeHandle.ReleaseHandle makes, and for `void *user`), out `out SafeHandle subclass`,
//   str string marshalled as UTF-8, cstr IntPtr (library-owned: converted here, never freed
//   by the marshaller), bytes byte*, fn delegate* unmanaged.
using System;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace TlsBridge.Interop;

internal static unsafe class Native
{
    internal const string Library = "tlsbridge";

    internal const int TLSB_ROLE_CLIENT = 0;
    internal const int TLSB_ROLE_SERVER = 1;

    internal const int TLSB_INFO_VERSION = 1;
    internal const int TLSB_INFO_CIPHER = 2;
    internal const int TLSB_INFO_CIPHER_IANA = 3;
    internal const int TLSB_INFO_PEER_SUBJECT = 4;
    internal const int TLSB_INFO_PEER_ISSUER = 5;
    internal const int TLSB_INFO_VERIFY = 6;
    internal const int TLSB_INFO_TARGET_NAME = 7;
    internal const int TLSB_INFO_SESSION_REUSED = 8;

    // ---- library
    [DllImport(Library)] internal static extern IntPtr tlsb_version();
    [DllImport(Library)] internal static extern IntPtr tlsb_openssl_version();
    [DllImport(Library)] internal static extern IntPtr tlsb_last_error();
    [DllImport(Library)] internal static extern int tlsb_last_status();
    [DllImport(Library)] internal static extern IntPtr tlsb_status_name(int status);
    [DllImport(Library)] internal static extern int tlsb_compat_mode();

    // ---- config
    [DllImport(Library)] internal static extern int tlsb_config_new(out SafeConfigHandle config);
    [DllImport(Library)]
    internal static extern int tlsb_config_set(SafeConfigHandle config,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string? value);
    [DllImport(Library)]
    internal static extern int tlsb_config_set_log(SafeConfigHandle config,
        delegate* unmanaged<IntPtr, int, IntPtr, void> fn, IntPtr user);
    [DllImport(Library)] internal static extern void tlsb_config_free(IntPtr config);

    // ---- context
    [DllImport(Library)]
    internal static extern int tlsb_context_new(SafeConfigHandle config, int role, out SafeContextHandle context);
    [DllImport(Library)] internal static extern IntPtr tlsb_context_settings(SafeContextHandle context);
    [DllImport(Library)] internal static extern void tlsb_context_free(IntPtr context);
    [DllImport(Library)]
    internal static extern int tlsb_verify(SafeContextHandle context, byte* chainPem, int length,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string? peerName, long atTime);

    // ---- connections
    [DllImport(Library)]
    internal static extern int tlsb_conn_new_socket(SafeContextHandle context, int fd,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string? targetName, out SafeConnHandle conn);
    [DllImport(Library)]
    internal static extern int tlsb_conn_new_buffer(SafeContextHandle context,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string? targetName, out SafeConnHandle conn);
    [DllImport(Library)]
    internal static extern int tlsb_dial(SafeContextHandle context, [MarshalAs(UnmanagedType.LPUTF8Str)] string host,
        int port, int timeoutMs, out SafeConnHandle conn);
    [DllImport(Library)] internal static extern int tlsb_conn_handshake(SafeConnHandle conn);
    [DllImport(Library)] internal static extern int tlsb_conn_read(SafeConnHandle conn, byte* buffer, int length);
    [DllImport(Library)] internal static extern int tlsb_conn_write(SafeConnHandle conn, byte* buffer, int length);
    [DllImport(Library)] internal static extern int tlsb_conn_shutdown(SafeConnHandle conn);
    [DllImport(Library)] internal static extern int tlsb_conn_close(SafeConnHandle conn);
    [DllImport(Library)] internal static extern void tlsb_conn_free(IntPtr conn);
    [DllImport(Library)] internal static extern int tlsb_conn_set_timeout(SafeConnHandle conn, int timeoutMs);
    [DllImport(Library)] internal static extern int tlsb_conn_fd(SafeConnHandle conn);
    [DllImport(Library)] internal static extern int tlsb_conn_feed(SafeConnHandle conn, byte* buffer, int length);
    [DllImport(Library)] internal static extern int tlsb_conn_feed_eof(SafeConnHandle conn);
    [DllImport(Library)] internal static extern int tlsb_conn_drain(SafeConnHandle conn, byte* buffer, int capacity);
    [DllImport(Library)] internal static extern int tlsb_conn_pending(SafeConnHandle conn);
    [DllImport(Library)] internal static extern IntPtr tlsb_conn_info(SafeConnHandle conn, int key);
    [DllImport(Library)]
    internal static extern int tlsb_conn_session_export(SafeConnHandle conn, byte* buffer, int capacity);
    [DllImport(Library)]
    internal static extern int tlsb_conn_session_import(SafeConnHandle conn, byte* session, int length);

    // ---- listeners
    [DllImport(Library)]
    internal static extern int tlsb_listen([MarshalAs(UnmanagedType.LPUTF8Str)] string? host, int port, int backlog,
        out SafeListenerHandle listener);
    [DllImport(Library)] internal static extern int tlsb_listener_port(SafeListenerHandle listener);
    [DllImport(Library)]
    internal static extern int tlsb_accept(SafeListenerHandle listener, SafeContextHandle context, int timeoutMs,
        out SafeConnHandle conn);
    [DllImport(Library)] internal static extern int tlsb_listener_close(SafeListenerHandle listener);
    [DllImport(Library)] internal static extern void tlsb_listener_free(IntPtr listener);

    // ---- 1.1
    [DllImport(Library)] internal static extern int tlsb_status_kind(int status);
    [DllImport(Library)] internal static extern int tlsb_conn_set_nonblocking(SafeConnHandle conn, int nonblocking);

    // The one import that is not the core's: socket mode hands the core a duplicate of a
    // Socket's descriptor, because the core closes what it is given while the .NET Socket
    // keeps closing its own (two owners of one descriptor could close a reused number).
    // F_DUPFD_CLOEXEC, not dup(): a duplicate inherited by a child process would keep the
    // connection open after both owners closed it.
    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)] private static extern int fcntl(int fd, int command, int argument);
    private const int F_DUPFD_CLOEXEC = 1030;

    // ---- helpers that keep raw pointers inside this file

    private static string Utf8(IntPtr p) => Marshal.PtrToStringUTF8(p) ?? "";

    /// <summary>A string for a `const char *` parameter: returned as it is, or refused if it
    /// holds a NUL, which would end it early in C (`evil.example\0.good.example` read as
    /// `evil.example`). Java's Native.cstr makes the same check with the same message.</summary>
    [return: NotNullIfNotNull(nameof(s))]
    internal static string? CString(string? s) => s == null || !s.Contains('\0')
        ? s
        : throw new ArgumentException("a string passed to tlsbridge contains NUL: " + s.Replace('\0', '?'));

    internal static string Version => Utf8(tlsb_version());
    internal static string OpenSslVersion => Utf8(tlsb_openssl_version());
    internal static string StatusName(int status) => Utf8(tlsb_status_name(status));

    /// <summary>Reads the thread-local error of the call that just failed on this thread.</summary>
    internal static (int Status, string Message) LastError() => (tlsb_last_status(), Utf8(tlsb_last_error()));

    // Strings owned by a handle are copied while the handle is held, so that a Dispose on
    // another thread cannot free them between the call and the copy.
    internal static string? ContextSettings(SafeContextHandle context)
    {
        bool added = false;
        try
        {
            context.DangerousAddRef(ref added);
            IntPtr p = tlsb_context_settings(context);
            return p == IntPtr.Zero ? null : Utf8(p);
        }
        finally
        {
            if (added) context.DangerousRelease();
        }
    }

    internal static string ConnInfo(SafeConnHandle conn, int key)
    {
        bool added = false;
        try
        {
            conn.DangerousAddRef(ref added);
            IntPtr p = tlsb_conn_info(conn, key);
            if (p == IntPtr.Zero)
                throw TlsException.FromLastError(tlsb_last_status());
            return Utf8(p);
        }
        finally
        {
            if (added) conn.DangerousRelease();
        }
    }

    // The one callback: the user pointer is a LogSink number (see TlsConfig.cs).
    [UnmanagedCallersOnly]
    private static void OnLog(IntPtr user, int level, IntPtr message) => LogSink.Dispatch(user, level, Utf8(message));

    /// <summary>Installs the log callback for sink <paramref name="sinkId"/>, or removes it (0).</summary>
    internal static int ConfigSetLog(SafeConfigHandle config, nint sinkId) =>
        sinkId == 0 ? tlsb_config_set_log(config, null, IntPtr.Zero) : tlsb_config_set_log(config, &OnLog, sinkId);

    /// <summary>A new descriptor for the socket, owned by whoever receives it.</summary>
    internal static int DuplicateDescriptor(Socket socket)
    {
        bool added = false;
        SafeSocketHandle handle = socket.SafeHandle;
        try
        {
            handle.DangerousAddRef(ref added);
            return Duplicate((int)handle.DangerousGetHandle());
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>A new descriptor for the connection's socket (socket mode), owned by the caller.</summary>
    internal static int DuplicateDescriptor(SafeConnHandle conn)
    {
        bool added = false;
        try
        {
            conn.DangerousAddRef(ref added);
            int fd = tlsb_conn_fd(conn);
            if (fd < 0)
                throw TlsException.FromLastError(fd);
            return Duplicate(fd);
        }
        finally
        {
            if (added) conn.DangerousRelease();
        }
    }

    private static int Duplicate(int fd)
    {
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (copy < 0)
            throw new SocketException(Marshal.GetLastPInvokeError());
        return copy;
    }
}
