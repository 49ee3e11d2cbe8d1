package dev.weldr.tls;

import dev.weldr.config.TlsProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** At reload, bad files leave the material in use, said once; good new files replace it. */
class ClusterFilesTest {

    @TempDir
    Path dir;

    @Test
    void shouldKeepTheOldMaterialOnBadFilesAndTakeGoodOnes() throws Exception {
        TestCertificates.Issued first = ClusterMaterialTest.node(ClusterMaterialTest.CA, "127.0.0.1");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Path ca = dir.resolve("ca.pem");
        Files.writeString(cert, first.chainPem());
        Files.writeString(key, first.keyPem());
        Files.writeString(ca, TestCertificates.pem(ClusterMaterialTest.CA.certificate()));
        ClusterFiles files = new ClusterFiles(cert, key, ca,
                c -> ClusterMaterial.of(c, "127.0.0.1", TlsProvider.JDK, 10_000, Instant.now()));
        ClusterMaterial loaded = files.load();
        try (LogCapture log = LogCapture.of(ClusterFiles.class)) {
            assertNull(files.reload(), "unchanged files");
            assertTrue(log.lines().isEmpty(), log.lines().toString());

            // A new certificate whose key has not been written yet (a writer that is not atomic).
            TestCertificates.Issued second = ClusterMaterialTest.node(ClusterMaterialTest.CA, "127.0.0.1");
            Files.writeString(cert, second.chainPem());
            assertNull(files.reload());
            assertNull(files.reload());
            assertSame(loaded, files.current());
            assertEquals(1, log.lines().size(), log.lines().toString());
            assertTrue(log.lines().get(0).startsWith("ERROR ") && log.lines().get(0).contains("weldr.cluster.tls.key"), log.lines().toString());

            Files.delete(ca);
            assertNull(files.reload());
            assertSame(loaded, files.current());
            assertEquals(2, log.lines().size(), log.lines().toString());
            assertTrue(log.lines().get(1).contains("weldr.cluster.tls.ca: cannot read"), log.lines().toString());

            Files.writeString(ca, TestCertificates.pem(ClusterMaterialTest.CA.certificate()));
            Files.writeString(key, second.keyPem());
            ClusterMaterial next = files.reload();
            assertEquals(second.certificate(), next.certificate());
            assertSame(next, files.current());
            assertEquals(3, log.lines().size(), log.lines().toString());
            assertTrue(log.lines().get(2).startsWith("INFO Cluster TLS reloaded"), log.lines().toString());
        }
    }
}
