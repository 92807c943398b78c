/*
 * The JNI half of the Java face: thin natives over tlsbridge.h, registered on
 * org.tlsbridge.Native in JNI_OnLoad. Java keeps every handle alive while a native runs (see
 * NativeResource.java), so nothing here checks for freed handles.
 *
 * Strings cross as UTF-8 byte arrays, because JNI's own string functions speak modified UTF-8.
 * A failing call throws the TlsException that TlsException.fromNative builds from the core's
 * thread-local status and message, read right after the call on the same thread.
 */
#include <jni.h>
#include <stdlib.h>
#include <string.h>

#include "tlsbridge.h"

/* One TLS record of plaintext: the most a single read returns or a single write takes. */
#define IO_BUFFER 16384

/* A connection handle as Java holds it: the connection and its copy buffers, made once so
 * that reads and writes never allocate. read and write may run at once on two threads, so each
 * has its own buffer. */
typedef struct {
    tlsb_conn *conn;
    uint8_t read_buf[IO_BUFFER];
    uint8_t write_buf[IO_BUFFER];
} jconn;

/* A context handle as Java holds it: the context and the global reference to its TlsLogger
 * (NULL without one). Java frees it only after every connection made from it, so the logger
 * outlives every call the core could log from. */
typedef struct {
    tlsb_context *context;
    jobject logger;
} jcontext;

static JavaVM *jvm;
static jclass native_class;         /* global ref to org.tlsbridge.Native */
static jmethodID log_bridge;        /* Native.log(TlsLogger, int, byte[]) */
static jclass exception_class;      /* global ref to org.tlsbridge.TlsException */
static jmethodID exception_factory; /* TlsException.fromNative(int, byte[]) */

#define CONN(h) (((jconn *)(intptr_t)(h))->conn)
#define CTX(h) (((jcontext *)(intptr_t)(h))->context)
#define PTR(h) ((void *)(intptr_t)(h))

static jbyteArray utf8_bytes(JNIEnv *env, const char *s)
{
    jsize n = (jsize)strlen(s);
    jbyteArray bytes = (*env)->NewByteArray(env, n);
    if (bytes)
        (*env)->SetByteArrayRegion(env, bytes, 0, n, (const jbyte *)s);
    return bytes;
}

/* Throws the core's failure. status: what the call returned, or 0 to ask tlsb_last_status(). */
static void throw_status(JNIEnv *env, int32_t status)
{
    if (status == 0)
        status = tlsb_last_status();
    jbyteArray message = utf8_bytes(env, tlsb_last_error());
    if (!message)
        return; /* OutOfMemoryError is pending */
    jthrowable e = (*env)->CallStaticObjectMethod(env, exception_class, exception_factory,
                                                  (jint)(status ? status : TLSB_ERR_INTERNAL), message);
    if (!(*env)->ExceptionCheck(env) && e)
        (*env)->Throw(env, e);
    (*env)->DeleteLocalRef(env, message);
    if (e)
        (*env)->DeleteLocalRef(env, e);
}

/* Results TlsSocket decides on: progress (TLSB_WANT_*), and TLSB_CLOSED, which ends a read but
 * fails a handshake or a write (the core sets no message for it); any other negative is thrown. */
static int32_t returned(JNIEnv *env, int32_t rc)
{
    if (rc < 0 && rc != TLSB_WANT_READ && rc != TLSB_WANT_WRITE && rc != TLSB_CLOSED)
        throw_status(env, rc);
    return rc;
}

static void throw_out_of_memory(JNIEnv *env, const char *what)
{
    jclass oom = (*env)->FindClass(env, "java/lang/OutOfMemoryError");
    if (oom)
        (*env)->ThrowNew(env, oom, what);
}

/* A NUL-terminated copy of a UTF-8 byte array (NULL for null); NULL with an exception pending
 * when memory runs out. */
static char *c_string(JNIEnv *env, jbyteArray bytes, int *failed)
{
    *failed = 0;
    if (!bytes)
        return NULL;
    jsize n = (*env)->GetArrayLength(env, bytes);
    char *s = malloc((size_t)n + 1);
    if (!s) {
        *failed = 1;
        throw_out_of_memory(env, "tlsbridge: out of native memory");
        return NULL;
    }
    (*env)->GetByteArrayRegion(env, bytes, 0, n, (jbyte *)s);
    s[n] = '\0';
    return s;
}

/* ---- library ------------------------------------------------------------------------- */

static jbyteArray JNICALL n_version(JNIEnv *env, jclass cls) { return utf8_bytes(env, tlsb_version()); }

static jbyteArray JNICALL n_openssl_version(JNIEnv *env, jclass cls)
{
    return utf8_bytes(env, tlsb_openssl_version());
}

static jint JNICALL n_compat_mode(JNIEnv *env, jclass cls) { return tlsb_compat_mode(); }

static jbyteArray JNICALL n_status_name(JNIEnv *env, jclass cls, jint status)
{
    return utf8_bytes(env, tlsb_status_name(status));
}

static jint JNICALL n_status_kind(JNIEnv *env, jclass cls, jint status) { return tlsb_status_kind(status); }

/* ---- contexts ------------------------------------------------------------------------ */

/* Sets one option from the two arrays; a failure is thrown (or pending) when it returns 0. */
static int set_option(JNIEnv *env, tlsb_config *config, jobjectArray names, jobjectArray values, jsize i)
{
    jbyteArray name_bytes = (*env)->GetObjectArrayElement(env, names, i);
    jbyteArray value_bytes = (*env)->GetObjectArrayElement(env, values, i);
    int failed_name, failed_value;
    char *name = c_string(env, name_bytes, &failed_name);
    char *value = failed_name ? NULL : c_string(env, value_bytes, &failed_value);
    int ok = !failed_name && !failed_value;
    if (ok) {
        int32_t rc = tlsb_config_set(config, name, value);
        if (rc != TLSB_OK) {
            throw_status(env, rc);
            ok = 0;
        }
    }
    free(name);
    free(value);
    (*env)->DeleteLocalRef(env, name_bytes);
    (*env)->DeleteLocalRef(env, value_bytes);
    return ok;
}

/* The core's log callback: hands the message to the context's TlsLogger through Native.log,
 * on the calling thread (always a Java thread inside a native method). */
static void log_to_java(void *user, int32_t level, const char *message)
{
    JNIEnv *env;
    if ((*jvm)->GetEnv(jvm, (void **)&env, JNI_VERSION_1_8) != JNI_OK || (*env)->ExceptionCheck(env))
        return;
    jbyteArray text = utf8_bytes(env, message);
    if (text)
        (*env)->CallStaticVoidMethod(env, native_class, log_bridge, ((jcontext *)user)->logger, (jint)level, text);
    /* Native.log catches what the logger throws; whatever is left (an Error) must not fail TLS. */
    if ((*env)->ExceptionCheck(env))
        (*env)->ExceptionClear(env);
    if (text)
        (*env)->DeleteLocalRef(env, text);
}

static void free_jcontext(JNIEnv *env, jcontext *c)
{
    tlsb_context_free(c->context);
    if (c->logger)
        (*env)->DeleteGlobalRef(env, c->logger);
    free(c);
}

static jlong JNICALL n_context_new(JNIEnv *env, jclass cls, jint role, jobjectArray names, jobjectArray values,
                                   jobject logger)
{
    jcontext *c = calloc(1, sizeof *c);
    if (!c) {
        throw_out_of_memory(env, "tlsbridge: out of native memory");
        return 0;
    }
    tlsb_config *config = NULL;
    int32_t rc = tlsb_config_new(&config);
    if (rc != TLSB_OK) {
        throw_status(env, rc);
        free(c);
        return 0;
    }
    int ok = 1;
    if (logger) {
        if (!(c->logger = (*env)->NewGlobalRef(env, logger))) {
            throw_out_of_memory(env, "tlsbridge: no global reference for the logger");
            ok = 0;
        } else if ((rc = tlsb_config_set_log(config, log_to_java, c)) != TLSB_OK) {
            throw_status(env, rc);
            ok = 0;
        }
    }
    jsize count = ok ? (*env)->GetArrayLength(env, names) : 0;
    for (jsize i = 0; ok && i < count; i++)
        ok = set_option(env, config, names, values, i);
    if (ok && (rc = tlsb_context_new(config, role, &c->context)) != TLSB_OK) {
        throw_status(env, rc); /* before tlsb_config_free, which may touch the error state */
        ok = 0;
    }
    tlsb_config_free(config);
    if (!ok) {
        free_jcontext(env, c);
        return 0;
    }
    return (jlong)(intptr_t)c;
}

static jbyteArray JNICALL n_context_settings(JNIEnv *env, jclass cls, jlong context)
{
    const char *settings = tlsb_context_settings(CTX(context));
    if (!settings) {
        throw_status(env, 0);
        return NULL;
    }
    return utf8_bytes(env, settings);
}

static void JNICALL n_context_free(JNIEnv *env, jclass cls, jlong context) { free_jcontext(env, PTR(context)); }

static void JNICALL n_verify(JNIEnv *env, jclass cls, jlong context, jbyteArray chain, jbyteArray peer_name,
                             jlong at_time)
{
    int failed;
    char *name = c_string(env, peer_name, &failed);
    if (failed)
        return;
    jsize length = (*env)->GetArrayLength(env, chain);
    jbyte *pem = (*env)->GetByteArrayElements(env, chain, NULL);
    if (pem) {
        int32_t rc = tlsb_verify(CTX(context), (const uint8_t *)pem, length, name, at_time);
        /* JNI_ABORT: the chain was only read. */
        (*env)->ReleaseByteArrayElements(env, chain, pem, JNI_ABORT);
        if (rc != TLSB_OK)
            throw_status(env, rc);
    }
    free(name);
}

/* ---- connections ---------------------------------------------------------------------- */

/* Wraps a new connection for Java; on failure the connection is freed and an error thrown. */
static jlong wrap_conn(JNIEnv *env, int32_t rc, tlsb_conn *conn)
{
    if (rc != TLSB_OK) {
        throw_status(env, rc);
        return 0;
    }
    jconn *c = malloc(sizeof *c);
    if (!c) {
        tlsb_conn_free(conn);
        throw_out_of_memory(env, "tlsbridge: out of native memory");
        return 0;
    }
    c->conn = conn;
    return (jlong)(intptr_t)c;
}

static jlong JNICALL n_dial(JNIEnv *env, jclass cls, jlong context, jbyteArray host_bytes, jint port, jint timeout)
{
    int failed;
    char *host = c_string(env, host_bytes, &failed);
    if (failed)
        return 0;
    tlsb_conn *conn = NULL;
    int32_t rc = tlsb_dial(CTX(context), host, port, timeout, &conn);
    free(host);
    return wrap_conn(env, rc, conn);
}

static jlong JNICALL n_conn_new_buffer(JNIEnv *env, jclass cls, jlong context, jbyteArray target_bytes)
{
    int failed;
    char *target = c_string(env, target_bytes, &failed);
    if (failed)
        return 0;
    tlsb_conn *conn = NULL;
    int32_t rc = tlsb_conn_new_buffer(CTX(context), target, &conn);
    free(target);
    return wrap_conn(env, rc, conn);
}

static jint JNICALL n_handshake(JNIEnv *env, jclass cls, jlong h)
{
    return returned(env, tlsb_conn_handshake(CONN(h)));
}

static jint JNICALL n_read(JNIEnv *env, jclass cls, jlong h, jbyteArray buffer, jint offset, jint length)
{
    jconn *c = PTR(h);
    int32_t rc = tlsb_conn_read(c->conn, c->read_buf, length < IO_BUFFER ? length : IO_BUFFER);
    if (rc > 0)
        (*env)->SetByteArrayRegion(env, buffer, offset, rc, (const jbyte *)c->read_buf);
    return returned(env, rc);
}

static jint JNICALL n_write(JNIEnv *env, jclass cls, jlong h, jbyteArray buffer, jint offset, jint length)
{
    jconn *c = PTR(h);
    int32_t n = length < IO_BUFFER ? length : IO_BUFFER;
    (*env)->GetByteArrayRegion(env, buffer, offset, n, (jbyte *)c->write_buf);
    return returned(env, tlsb_conn_write(c->conn, c->write_buf, n));
}

/* A direct ByteBuffer's memory stays put and lives while the Java caller holds the buffer, so the
 * core reads and writes it in place, with no copy and no pinning, even while it blocks. */
static uint8_t *direct_address(JNIEnv *env, jobject buffer)
{
    uint8_t *base = (*env)->GetDirectBufferAddress(env, buffer);
    if (!base) {
        jclass iae = (*env)->FindClass(env, "java/lang/IllegalArgumentException");
        if (iae)
            (*env)->ThrowNew(env, iae, "tlsbridge: not a direct ByteBuffer");
    }
    return base;
}

static jint JNICALL n_read_direct(JNIEnv *env, jclass cls, jlong h, jobject buffer, jint offset, jint length)
{
    uint8_t *base = direct_address(env, buffer);
    return base ? returned(env, tlsb_conn_read(CONN(h), base + offset, length)) : 0;
}

static jint JNICALL n_write_direct(JNIEnv *env, jclass cls, jlong h, jobject buffer, jint offset, jint length)
{
    uint8_t *base = direct_address(env, buffer);
    return base ? returned(env, tlsb_conn_write(CONN(h), base + offset, length)) : 0;
}

static void JNICALL n_shutdown(JNIEnv *env, jclass cls, jlong h)
{
    int32_t rc = tlsb_conn_shutdown(CONN(h));
    if (rc != TLSB_OK)
        throw_status(env, rc);
}

static void JNICALL n_close(JNIEnv *env, jclass cls, jlong h) { tlsb_conn_close(CONN(h)); }

static void JNICALL n_free(JNIEnv *env, jclass cls, jlong h)
{
    tlsb_conn_free(CONN(h));
    free(PTR(h));
}

static void JNICALL n_set_timeout(JNIEnv *env, jclass cls, jlong h, jint timeout)
{
    int32_t rc = tlsb_conn_set_timeout(CONN(h), timeout);
    if (rc != TLSB_OK)
        throw_status(env, rc);
}

/* feed and drain never block (buffer mode), so the Java array is used in place, without a copy;
 * nothing else touches JNI inside the critical region. */
static void JNICALL n_feed(JNIEnv *env, jclass cls, jlong h, jbyteArray buffer, jint offset, jint length)
{
    uint8_t *bytes = (*env)->GetPrimitiveArrayCritical(env, buffer, NULL);
    if (!bytes)
        return; /* OutOfMemoryError is pending */
    int32_t rc = tlsb_conn_feed(CONN(h), bytes + offset, length);
    (*env)->ReleasePrimitiveArrayCritical(env, buffer, bytes, JNI_ABORT);
    if (rc < 0)
        throw_status(env, rc);
}

static void JNICALL n_feed_eof(JNIEnv *env, jclass cls, jlong h)
{
    int32_t rc = tlsb_conn_feed_eof(CONN(h));
    if (rc != TLSB_OK)
        throw_status(env, rc);
}

static jint JNICALL n_drain(JNIEnv *env, jclass cls, jlong h, jbyteArray buffer, jint offset, jint capacity)
{
    uint8_t *bytes = (*env)->GetPrimitiveArrayCritical(env, buffer, NULL);
    if (!bytes)
        return 0; /* OutOfMemoryError is pending */
    int32_t rc = tlsb_conn_drain(CONN(h), bytes + offset, capacity);
    (*env)->ReleasePrimitiveArrayCritical(env, buffer, bytes, 0);
    if (rc < 0)
        throw_status(env, rc);
    return rc;
}

static jint JNICALL n_pending(JNIEnv *env, jclass cls, jlong h)
{
    int32_t rc = tlsb_conn_pending(CONN(h));
    if (rc < 0)
        throw_status(env, rc);
    return rc;
}

static jbyteArray JNICALL n_info(JNIEnv *env, jclass cls, jlong h, jint key)
{
    const char *value = tlsb_conn_info(CONN(h), key);
    if (!value) {
        throw_status(env, 0);
        return NULL;
    }
    return utf8_bytes(env, value);
}

/* A session holds tickets and the peer's chain, of a size the ABI reports only as "too small":
 * start at one I/O buffer and double. */
static jbyteArray JNICALL n_session_export(JNIEnv *env, jclass cls, jlong h)
{
    for (int32_t capacity = IO_BUFFER; capacity <= 64 * IO_BUFFER; capacity *= 2) {
        uint8_t *buffer = malloc((size_t)capacity);
        if (!buffer)
            break;
        int32_t rc = tlsb_conn_session_export(CONN(h), buffer, capacity);
        jbyteArray session = NULL;
        if (rc >= 0 && (session = (*env)->NewByteArray(env, rc)) != NULL)
            (*env)->SetByteArrayRegion(env, session, 0, rc, (const jbyte *)buffer);
        else if (rc < 0 && rc != TLSB_ERR_BUFFER_TOO_SMALL)
            throw_status(env, rc);
        free(buffer);
        if (rc != TLSB_ERR_BUFFER_TOO_SMALL)
            return session;
    }
    throw_out_of_memory(env, "tlsbridge: cannot hold the session");
    return NULL;
}

static void JNICALL n_session_import(JNIEnv *env, jclass cls, jlong h, jbyteArray session)
{
    jsize length = (*env)->GetArrayLength(env, session);
    jbyte *bytes = (*env)->GetByteArrayElements(env, session, NULL);
    if (!bytes)
        return; /* OutOfMemoryError is pending */
    int32_t rc = tlsb_conn_session_import(CONN(h), (const uint8_t *)bytes, length);
    (*env)->ReleaseByteArrayElements(env, session, bytes, JNI_ABORT);
    if (rc != TLSB_OK)
        throw_status(env, rc);
}

/* ---- listeners -------------------------------------------------------------------------- */

static jlong JNICALL n_listen(JNIEnv *env, jclass cls, jbyteArray host_bytes, jint port, jint backlog)
{
    int failed;
    char *host = c_string(env, host_bytes, &failed);
    if (failed)
        return 0;
    tlsb_listener *listener = NULL;
    int32_t rc = tlsb_listen(host, port, backlog, &listener);
    free(host);
    if (rc != TLSB_OK) {
        throw_status(env, rc);
        return 0;
    }
    return (jlong)(intptr_t)listener;
}

static jint JNICALL n_listener_port(JNIEnv *env, jclass cls, jlong listener)
{
    int32_t rc = tlsb_listener_port(PTR(listener));
    if (rc < 0)
        throw_status(env, rc);
    return rc;
}

static jlong JNICALL n_accept(JNIEnv *env, jclass cls, jlong listener, jlong context, jint timeout)
{
    tlsb_conn *conn = NULL;
    int32_t rc = tlsb_accept(PTR(listener), CTX(context), timeout, &conn);
    return wrap_conn(env, rc, conn);
}

static void JNICALL n_listener_close(JNIEnv *env, jclass cls, jlong listener)
{
    tlsb_listener_close(PTR(listener));
}

static void JNICALL n_listener_free(JNIEnv *env, jclass cls, jlong listener)
{
    tlsb_listener_free(PTR(listener));
}

/* ---- registration ------------------------------------------------------------------------ */

#define NATIVE(name, signature, fn) {(char *)(name), (char *)(signature), (void *)(fn)}

static const JNINativeMethod natives[] = {
    NATIVE("version", "()[B", n_version),
    NATIVE("opensslVersion", "()[B", n_openssl_version),
    NATIVE("compatMode", "()I", n_compat_mode),
    NATIVE("statusName", "(I)[B", n_status_name),
    NATIVE("statusKind", "(I)I", n_status_kind),
    NATIVE("contextNew", "(I[[B[[BLorg/tlsbridge/TlsLogger;)J", n_context_new),
    NATIVE("contextSettings", "(J)[B", n_context_settings),
    NATIVE("contextFree", "(J)V", n_context_free),
    NATIVE("verify", "(J[B[BJ)V", n_verify),
    NATIVE("dial", "(J[BII)J", n_dial),
    NATIVE("connNewBuffer", "(J[B)J", n_conn_new_buffer),
    NATIVE("handshake", "(J)I", n_handshake),
    NATIVE("read", "(J[BII)I", n_read),
    NATIVE("write", "(J[BII)I", n_write),
    NATIVE("readDirect", "(JLjava/nio/ByteBuffer;II)I", n_read_direct),
    NATIVE("writeDirect", "(JLjava/nio/ByteBuffer;II)I", n_write_direct),
    NATIVE("shutdown", "(J)V", n_shutdown),
    NATIVE("close", "(J)V", n_close),
    NATIVE("free", "(J)V", n_free),
    NATIVE("setTimeout", "(JI)V", n_set_timeout),
    NATIVE("feed", "(J[BII)V", n_feed),
    NATIVE("feedEof", "(J)V", n_feed_eof),
    NATIVE("drain", "(J[BII)I", n_drain),
    NATIVE("pending", "(J)I", n_pending),
    NATIVE("info", "(JI)[B", n_info),
    NATIVE("sessionExport", "(J)[B", n_session_export),
    NATIVE("sessionImport", "(J[B)V", n_session_import),
    NATIVE("listen", "([BII)J", n_listen),
    NATIVE("listenerPort", "(J)I", n_listener_port),
    NATIVE("accept", "(JJI)J", n_accept),
    NATIVE("listenerClose", "(J)V", n_listener_close),
    NATIVE("listenerFree", "(J)V", n_listener_free),
};

/* A global reference to a class and one of its static methods; 0 on failure (exception pending). */
static int resolve(JNIEnv *env, const char *class_name, const char *method, const char *signature, jclass *cls,
                   jmethodID *id)
{
    jclass local = (*env)->FindClass(env, class_name);
    if (!local)
        return 0;
    *id = (*env)->GetStaticMethodID(env, local, method, signature);
    *cls = *id ? (*env)->NewGlobalRef(env, local) : NULL;
    (*env)->DeleteLocalRef(env, local);
    return *cls != NULL;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved)
{
    JNIEnv *env;
    jvm = vm;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK)
        return JNI_ERR;
    if (!resolve(env, "org/tlsbridge/Native", "log", "(Lorg/tlsbridge/TlsLogger;I[B)V", &native_class, &log_bridge)
        || !resolve(env, "org/tlsbridge/TlsException", "fromNative", "(I[B)Lorg/tlsbridge/TlsException;",
                    &exception_class, &exception_factory))
        return JNI_ERR;
    if ((*env)->RegisterNatives(env, native_class, natives, sizeof natives / sizeof natives[0]) != JNI_OK)
        return JNI_ERR;
    return JNI_VERSION_1_8;
}

JNIEXPORT void JNICALL JNI_OnUnload(JavaVM *vm, void *reserved)
{
    JNIEnv *env;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK)
        return;
    if (native_class)
        (*env)->DeleteGlobalRef(env, native_class);
    if (exception_class)
        (*env)->DeleteGlobalRef(env, exception_class);
}
