package dev.weldr.tls;

import dev.weldr.config.InvalidConfigException;
import dev.weldr.config.TlsProvider;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading {@code weldr.cluster.tls.*}: each bad file is refused with a line naming its key. */
class ClusterMaterialTest {

    static final TestCertificates.Issued CA = TestCertificates.ca("Cluster CA");
    static final String HOST = "127.0.0.1";

    @TempDir
    Path dir;

    static TestCertificates.Issued node(TestCertificates.Issued ca, String... ips) {
        return TestCertificates.server(ca, List.of("node.weldr.test"), List.of(ips));
    }

    private ClusterMaterial load(String cert, String key, String ca) throws Exception {
        return ClusterMaterial.of(ClusterMaterial.read(write("cert.pem", cert), write("key.pem", key), write("ca.pem", ca)),
                HOST, TlsProvider.JDK, 10_000, Instant.now());
    }

    private Path write(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    private String refused(String cert, String key, String ca) {
        return assertThrows(InvalidConfigException.class, () -> load(cert, key, ca)).getMessage();
    }

    @Test
    void shouldLoadACertificateTheCaSignedThatNamesThisNode() throws Exception {
        TestCertificates.Issued node = node(CA, HOST);
        ClusterMaterial m = load(node.chainPem(), node.keyPem(), TestCertificates.pem(CA.certificate()));
        assertEquals(node.certificate(), m.certificate());
        assertNotNull(m.server());
        assertNotNull(m.client());
        assertEquals(node.certificate().getNotAfter().toInstant(), m.notAfter());
    }

    @Test
    void shouldTrustEveryCaOfTheBundleAndFollowIntermediates() throws Exception {
        TestCertificates.Issued next = TestCertificates.ca("Next CA");
        TestCertificates.Issued intermediate = TestCertificates.intermediate(next, "Next Intermediate");
        TestCertificates.Issued node = node(intermediate, HOST);
        String bundle = TestCertificates.pem(CA.certificate()) + TestCertificates.pem(next.certificate());
        assertEquals(2, load(node.chainPem(), node.keyPem(), bundle).cas().size());
    }

    @Test
    void shouldNameTheFileThatCannotBeRead() throws Exception {
        TestCertificates.Issued node = node(CA, HOST);
        Path cert = write("cert.pem", node.chainPem());
        Path key = write("key.pem", node.keyPem());
        Path ca = write("ca.pem", TestCertificates.pem(CA.certificate()));
        String missing = assertThrows(InvalidConfigException.class,
                () -> ClusterMaterial.read(cert, dir.resolve("nope.pem"), ca)).getMessage();
        assertTrue(missing.startsWith("weldr.cluster.tls.key: cannot read") && missing.contains("no such file"), missing);
        String directory = assertThrows(InvalidConfigException.class, () -> ClusterMaterial.read(cert, key, dir)).getMessage();
        assertTrue(directory.startsWith("weldr.cluster.tls.ca: cannot read"), directory);
    }

    @Test
    void shouldRefuseAnExpiredOrNotYetValidCertificate() {
        String ca = TestCertificates.pem(CA.certificate());
        TestCertificates.Issued expired = TestCertificates.server(CA, List.of(), List.of(HOST),
                Instant.now().minus(Duration.ofDays(10)), Instant.now().minus(Duration.ofDays(1)));
        String line = refused(expired.chainPem(), expired.keyPem(), ca);
        assertTrue(line.startsWith("weldr.cluster.tls.cert: ") && line.contains("expired"), line);
        TestCertificates.Issued early = TestCertificates.server(CA, List.of(), List.of(HOST),
                Instant.now().plus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(10)));
        line = refused(early.chainPem(), early.keyPem(), ca);
        assertTrue(line.startsWith("weldr.cluster.tls.cert: ") && line.contains("not valid yet"), line);
    }

    @Test
    void shouldRefuseAKeyThatIsNotTheCertificates() {
        TestCertificates.Issued node = node(CA, HOST);
        TestCertificates.Issued other = node(CA, HOST);
        String line = refused(node.chainPem(), other.keyPem(), TestCertificates.pem(CA.certificate()));
        assertTrue(line.startsWith("weldr.cluster.tls.key: ") && line.contains("does not match"), line);
        line = refused(node.chainPem(), "not a key", TestCertificates.pem(CA.certificate()));
        assertTrue(line.startsWith("weldr.cluster.tls.key: "), line);
    }

    @Test
    void shouldRefuseACaThatDoesNotSignTheCertificate() {
        TestCertificates.Issued node = node(CA, HOST);
        TestCertificates.Issued stranger = TestCertificates.ca("Stranger CA");
        String line = refused(node.chainPem(), node.keyPem(), TestCertificates.pem(stranger.certificate()));
        assertTrue(line.startsWith("weldr.cluster.tls.ca: does not sign"), line);
        line = refused(node.chainPem(), node.keyPem(), "no certificate here");
        assertTrue(line.startsWith("weldr.cluster.tls.ca: "), line);
    }

    @Test
    void shouldRefuseACertificateThatDoesNotNameThisNodesRaftHost() {
        TestCertificates.Issued node = node(CA, "10.0.0.9");
        String line = refused(node.chainPem(), node.keyPem(), TestCertificates.pem(CA.certificate()));
        assertTrue(line.startsWith("weldr.cluster.tls.cert: names") && line.contains("but not 127.0.0.1"), line);
    }

    @Test
    void shouldRefuseACertificateThatCannotServeAsAClient() throws Exception {
        Instant now = Instant.now();
        TestCertificates.Issued serverOnly = TestCertificates.server(CA, List.of(), List.of(HOST), now.minus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(1)), KeyPurposeId.id_kp_serverAuth);
        String line = refused(serverOnly.chainPem(), serverOnly.keyPem(), TestCertificates.pem(CA.certificate()));
        assertTrue(line.startsWith("weldr.cluster.tls.cert: its extendedKeyUsage lacks clientAuth"), line);
        TestCertificates.Issued both = TestCertificates.server(CA, List.of(), List.of(HOST), now.minus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(1)), KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth);
        assertNotNull(load(both.chainPem(), both.keyPem(), TestCertificates.pem(CA.certificate())));
    }
}
