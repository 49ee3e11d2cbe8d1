package dev.weldr.tls;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CertificateBundleTest {

    private static final TestCertificates.Issued CA = TestCertificates.ca("weldr test root");
    private static final TestCertificates.Issued INTERMEDIATE = TestCertificates.intermediate(CA, "weldr test intermediate");
    private static final Instant YESTERDAY = Instant.now().minus(Duration.ofDays(1));
    private static final Instant NEXT_MONTH = Instant.now().plus(Duration.ofDays(30));

    @Test
    void shouldAcceptEveryKeyTypeAndFormThatIsAllowed() throws Exception {
        for (var keys : List.of(TestCertificates.rsa(2048), TestCertificates.ec("secp256r1"), TestCertificates.ec("secp384r1"))) {
            TestCertificates.Issued leaf = TestCertificates.leaf(INTERMEDIATE, keys, YESTERDAY, NEXT_MONTH, "shop.example");
            for (String key : List.of(leaf.keyPem(), leaf.traditionalKeyPem())) {
                CertificateBundle b = CertificateBundle.parse(leaf.chainPem(), key, Instant.now());
                assertEquals(List.of("shop.example"), b.info().names());
                assertEquals(2, b.chain().size());
                assertEquals(leaf.fingerprint(), b.info().fingerprint());
            }
        }
        assertTrue(TestCertificates.leaf(INTERMEDIATE, "x.example").traditionalKeyPem().contains("BEGIN EC PRIVATE KEY"));
        assertTrue(TestCertificates.leaf(INTERMEDIATE, TestCertificates.rsa(2048), YESTERDAY, NEXT_MONTH, "x.example")
                .traditionalKeyPem().contains("BEGIN RSA PRIVATE KEY"));
    }

    @Test
    void shouldDescribeTheLeaf() throws Exception {
        TestCertificates.Issued leaf = TestCertificates.leaf(INTERMEDIATE, "shop.example", "*.shop.example");
        CertificateBundle.Info info = CertificateBundle.describe(leaf.chainPem());
        assertEquals(List.of("shop.example", "*.shop.example"), info.names());
        assertEquals("CN=weldr test intermediate", info.issuer());
        assertEquals("ECDSA P-256", info.keyType());
        assertEquals(leaf.certificate().getNotAfter().toInstant(), info.notAfter());
    }

    @Test
    void shouldRefuseGarbage() {
        TestCertificates.Issued leaf = TestCertificates.leaf(INTERMEDIATE, "shop.example");
        assertProblem("chain: no PEM CERTIFICATE block found", "hello", leaf.keyPem());
        assertProblem("chain: not valid PEM", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", leaf.keyPem());
        assertProblem("key: no PEM private key found", leaf.chainPem(), "hello");
        assertProblem("chain: holds something other than CERTIFICATE", leaf.chainPem() + leaf.keyPem(), leaf.keyPem());
        assertProblem("key: not a private key", leaf.chainPem(), leaf.chainPem().substring(0, leaf.chainPem().indexOf("-----END") + 26));
    }

    @Test
    void shouldRefuseAKeyThatIsNotTheLeafs() {
        TestCertificates.Issued leaf = TestCertificates.leaf(INTERMEDIATE, "shop.example");
        TestCertificates.Issued other = TestCertificates.leaf(INTERMEDIATE, "shop.example");
        TestCertificates.Issued rsa = TestCertificates.leaf(INTERMEDIATE, TestCertificates.rsa(2048), YESTERDAY, NEXT_MONTH, "shop.example");
        assertProblem("key: does not match the leaf", leaf.chainPem(), other.keyPem());
        assertProblem("key: does not match the leaf", leaf.chainPem(), rsa.keyPem());
    }

    @Test
    void shouldRefuseAChainOutOfOrder() {
        TestCertificates.Issued leaf = TestCertificates.leaf(INTERMEDIATE, "shop.example");
        String swapped = TestCertificates.pem(INTERMEDIATE.certificate()) + TestCertificates.pem(leaf.certificate());
        assertProblem("key: does not match the leaf", swapped, leaf.keyPem());
        String wrongIssuer = TestCertificates.pem(leaf.certificate()) + TestCertificates.pem(TestCertificates.ca("another root").certificate());
        assertProblem("chain: out of order: certificate 2 (CN=another root) did not issue certificate 1", wrongIssuer, leaf.keyPem());
    }

    @Test
    void shouldRefuseALeafOutsideItsValidity() {
        var keys = TestCertificates.ec("secp256r1");
        TestCertificates.Issued expired = TestCertificates.leaf(INTERMEDIATE, keys, Instant.now().minus(Duration.ofDays(10)),
                Instant.now().minus(Duration.ofDays(1)), "shop.example");
        TestCertificates.Issued early = TestCertificates.leaf(INTERMEDIATE, keys, Instant.now().plus(Duration.ofDays(1)),
                NEXT_MONTH, "shop.example");
        assertProblem("chain: the leaf certificate expired on", expired.chainPem(), expired.keyPem());
        assertProblem("chain: the leaf certificate is not valid yet", early.chainPem(), early.keyPem());
    }

    @Test
    void shouldRefuseWeakOrUnsupportedKeys() {
        assertProblem("key: RSA keys need at least 2048 bits, this one has 1024",
                TestCertificates.leaf(INTERMEDIATE, TestCertificates.rsa(1024), YESTERDAY, NEXT_MONTH, "shop.example"));
        assertProblem("key: ECDSA keys must be on P-256 or P-384",
                TestCertificates.leaf(INTERMEDIATE, TestCertificates.ec("secp521r1"), YESTERDAY, NEXT_MONTH, "shop.example"));
    }

    @Test
    void shouldRefuseNamesThatAreNotDnsNames() {
        for (String bad : List.of("shop..example", "-shop.example", "*.com", "a.*.example", "shop_1.example", "*")) {
            assertProblem("which is neither a DNS name nor a wildcard", TestCertificates.leaf(INTERMEDIATE, bad));
        }
        assertProblem("names no DNS name", TestCertificates.leaf(INTERMEDIATE));
    }

    @Test
    void shouldTellDnsNamesAndWildcards() {
        assertTrue(CertificateBundle.validName("shop.example"));
        assertTrue(CertificateBundle.validName("*.shop.example"));
        assertTrue(CertificateBundle.validName("localhost"));
        assertFalse(CertificateBundle.validName("*.localhost"));
        assertFalse(CertificateBundle.validName("shop.example."));
    }

    private static void assertProblem(String expected, TestCertificates.Issued leaf) {
        assertProblem(expected, leaf.chainPem(), leaf.keyPem());
    }

    private static void assertProblem(String expected, String chain, String key) {
        InvalidCertificateException e = assertThrows(InvalidCertificateException.class,
                () -> CertificateBundle.parse(chain, key, Instant.now()));
        assertTrue(e.getMessage().startsWith(expected) || e.getMessage().contains(expected),
                "expected '" + expected + "', got '" + e.getMessage() + "'");
        assertFalse(e.getMessage().contains("PRIVATE KEY-----"), "the message quotes the key");
    }
}
