package dev.weldr.faults;

import dev.weldr.tls.TestCertificates;
import org.bouncycastle.asn1.x509.KeyPurposeId;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The lab's cluster CA and one certificate per lab host, naming the host's address (its Raft host,
 * so its node id {@code ip:8688}) as an IP SAN, written as PEM files under the lab's directory for
 * {@code weldr.cluster.tls.*}. Every host gets one, spares included: a node that joins later
 * needs it as much as the first three.
 */
final class LabTls {

    final Path dir;
    final Path ca;
    private final TestCertificates.Issued authority;

    private LabTls(Path dir, TestCertificates.Issued authority) {
        this.dir = dir;
        this.authority = authority;
        this.ca = write("ca.crt", TestCertificates.pem(authority.certificate()));
    }

    /** A CA for the lab and a certificate for each of its hosts. */
    static LabTls mint(Lab lab) {
        LabTls tls = new LabTls(lab.dir.resolve("tls"), TestCertificates.ca("weldr fault lab CA"));
        for (Lab.Host h : lab.hosts) {
            tls.issue(h.name, member(tls.authority, h));
        }
        return tls;
    }

    /** The settings that make a node on {@code h} speak mutual TLS on its Raft port. */
    Map<String, String> settings(Lab.Host h) {
        return settings(h.name);
    }

    private Map<String, String> settings(String name) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("weldr.cluster.tls.cert", dir.resolve(name + ".crt").toString());
        m.put("weldr.cluster.tls.key", dir.resolve(name + ".key").toString());
        m.put("weldr.cluster.tls.ca", ca.toString());
        return m;
    }

    /**
     * Settings for a node on {@code h} whose certificate is for the right address but signed by
     * another CA, which also is the only CA it trusts: it can neither prove itself to the lab's
     * nodes nor accept theirs.
     */
    Map<String, String> foreign(Lab.Host h) {
        TestCertificates.Issued other = TestCertificates.ca("another CA");
        String name = h.name + "-foreign";
        issue(name, member(other, h));
        Map<String, String> m = settings(name);
        m.put("weldr.cluster.tls.ca", write(name + "-ca.crt", TestCertificates.pem(other.certificate())).toString());
        return m;
    }

    /** What cert-manager or openssl would make for a member: its address, usable as server and as client. */
    private static TestCertificates.Issued member(TestCertificates.Issued ca, Lab.Host h) {
        return TestCertificates.server(ca, List.of(), List.of(h.ip), Instant.now().minus(Duration.ofDays(1)),
                Instant.now().plus(Duration.ofDays(30)), KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth);
    }

    private void issue(String name, TestCertificates.Issued leaf) {
        write(name + ".crt", leaf.chainPem());
        write(name + ".key", leaf.keyPem());
    }

    private Path write(String file, String pem) {
        try {
            Files.createDirectories(dir);
            return Files.writeString(dir.resolve(file), pem);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
