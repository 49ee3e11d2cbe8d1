package dev.weldr.tls;

import dev.weldr.pool.BackendTls;
import org.junit.jupiter.api.Test;

import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a pool trusts for its https:// servers, and the names it may send and check. */
class BackendTrustTest {

    private static final TestCertificates.Issued CA = TestCertificates.ca("trust test CA");

    @Test
    void shouldTrustTheJdkStorePlusThePoolsBundleNotInsteadOfIt() throws Exception {
        X509TrustManager withCa = manager(new BackendTls(true, CA.chainPem(), null));
        X509TrustManager jdkOnly = manager(BackendTls.DEFAULTS);
        int system = jdkOnly.getAcceptedIssuers().length;
        assertTrue(system > 0, "the JDK's store has CAs");
        assertEquals(system + 1, withCa.getAcceptedIssuers().length);
        TestCertificates.Issued leaf = TestCertificates.leaf(CA, "api.internal");
        X509Certificate[] chain = {leaf.certificate()};
        assertDoesNotThrow(() -> withCa.checkServerTrusted(chain, "ECDHE_ECDSA"));
        assertThrows(CertificateException.class, () -> jdkOnly.checkServerTrusted(chain, "ECDHE_ECDSA"));
    }

    @Test
    void shouldRefuseABundleWithoutCertificatesNamingTheField() throws Exception {
        for (String bad : List.of("", "garbage", CA.keyPem(),
                "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")) {
            InvalidCertificateException e = assertThrows(InvalidCertificateException.class, () -> BackendTrust.caBundle(bad));
            assertTrue(e.getMessage().startsWith("tls.ca: "), e.getMessage());
        }
        assertEquals(2, BackendTrust.caBundle(CA.chainPem() + TestCertificates.ca("other").chainPem()).size());
        assertEquals(CA.fingerprint(), BackendTrust.describe(CA.chainPem()).get(0).fingerprint());
    }

    @Test
    void shouldTakeDnsNamesAsServerNamesAndSendSniForNamesOnly() {
        for (String ok : List.of("api.internal", "backend", "web_1.compose", "API.Example.COM")) {
            assertNull(BackendTrust.serverNameProblem(ok), ok);
        }
        for (String bad : List.of("", "10.0.0.1", "::1", "a b", "-x.example", "x..example", "*.example.com")) {
            assertNotNull(BackendTrust.serverNameProblem(bad), bad);
        }
        assertTrue(BackendTrust.sendsSni("localhost"));
        assertTrue(!BackendTrust.sendsSni("127.0.0.1") && !BackendTrust.sendsSni("::1"));
        assertEquals("api.internal", BackendTrust.peerName(new BackendTls(true, null, "api.internal"), "10.0.0.1"));
        assertEquals("10.0.0.1", BackendTrust.peerName(BackendTls.DEFAULTS, "10.0.0.1"));
    }

    private static X509TrustManager manager(BackendTls tls) throws Exception {
        TrustManagerFactory tmf = BackendTrust.trust(tls);
        for (var tm : tmf.getTrustManagers()) {
            if (tm instanceof X509TrustManager x) {
                return x;
            }
        }
        throw new AssertionError("no X509TrustManager");
    }
}
