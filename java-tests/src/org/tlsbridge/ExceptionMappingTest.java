package org.tlsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The exception class of every status is the one the core's tlsb_status_kind chooses. */
class ExceptionMappingTest {

    @Test
    void exceptionClassFollowsTheCoresKindForEveryStatus() throws Exception {
        TreeSet<Integer> statuses = new TreeSet<>();
        for (Field f : TlsStatus.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
                statuses.add(f.getInt(null));
            }
        }
        // Codes the header does not define (yet), inside and outside its blocks.
        for (int status = -120; status <= 0; status++) {
            statuses.add(status);
        }
        TlsBridge.version(); // loads the natives
        for (int status : statuses) {
            int kind = Native.statusKind(status);
            Class<?> expected = kind == Native.KIND_CONFIG ? TlsConfigException.class
                    : kind == Native.KIND_VERIFY ? TlsVerifyException.class : TlsException.class;
            assertEquals(expected, TlsException.of(status, "test").getClass(),
                    TlsStatus.name(status) + " (" + status + ") is of kind " + kind);
        }
    }

    /** The decisions taken for the faces: PEER_CERT_MISSING is a verification failure. */
    @Test
    void peerCertMissingIsAVerificationFailure() {
        TlsBridge.version();
        assertEquals(Native.KIND_VERIFY, Native.statusKind(TlsStatus.ERR_PEER_CERT_MISSING));
        assertEquals(TlsVerifyException.class, TlsException.of(TlsStatus.ERR_PEER_CERT_MISSING, "test").getClass());
    }
}
