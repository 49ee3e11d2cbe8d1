package dev.weldr.raft;

import dev.weldr.pool.Certificate;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.Pool;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Topology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CertificateCodecTest {

    private static final Certificate SHOP = new Certificate("shop", "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n",
            "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n");
    private static final Certificate BLOG = new Certificate("blog", "chain", "sealed:v1:a:b:c");

    @Test
    void shouldRoundTripCertificateCommands() throws Exception {
        for (PoolCommand command : List.of(new PoolCommand.PutCertificate(SHOP), new PoolCommand.PutCertificate(BLOG),
                new PoolCommand.DeleteCertificate("shop"))) {
            assertEquals(command, CommandCodec.decode(ByteBuffer.wrap(CommandCodec.encode(command))));
        }
    }

    @Test
    void shouldAddReplaceAndRemoveCertificatesWithOnePureApply() {
        Topology one = Topology.EMPTY.apply(new PoolCommand.PutCertificate(SHOP)).topology();
        Topology two = one.apply(new PoolCommand.PutCertificate(BLOG)).topology();
        Certificate renewed = new Certificate("shop", "new chain", "new key");
        Topology replaced = two.apply(new PoolCommand.PutCertificate(renewed)).topology();
        assertEquals(List.of("blog", "shop"), List.copyOf(replaced.certificates().keySet()));
        assertEquals(renewed, replaced.certificates().get("shop"));
        assertEquals(SHOP, two.certificates().get("shop"), "apply never changes the topology it is given");
        Outcome removed = replaced.apply(new PoolCommand.DeleteCertificate("shop"));
        assertEquals(List.of("blog"), List.copyOf(removed.topology().certificates().keySet()));
        Outcome missing = removed.topology().apply(new PoolCommand.DeleteCertificate("shop"));
        assertEquals(Outcome.Result.NOT_FOUND, missing.result());
        assertSame(removed.topology(), missing.topology());
        Topology poolChange = two.apply(new PoolCommand.CreatePool("api", PoolSettings.DEFAULTS)).topology();
        assertSame(two.certificates(), poolChange.certificates(), "a pool change keeps the certificates map as it is");
    }

    @Test
    void shouldKeepCertificatesInSnapshotsReadableByTheOwnerOnly(@TempDir Path dir) throws Exception {
        Topology t = Topology.of(7, List.of(Pool.of(Pool.DEFAULT, PoolSettings.DEFAULTS, List.of())), List.of(), Map.of(),
                List.of(SHOP, BLOG));
        SnapshotCodec.write(t, dir);
        assertEquals(t, SnapshotCodec.read(dir));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(SnapshotCodec.FILE))));
    }

    @Test
    void shouldReadASnapshotWrittenBeforeCertificatesExisted() throws Exception {
        byte[] old = ("{\"format\":2,\"appliedIndex\":3,\"pools\":[{\"name\":\"default\",\"settings\":"
                + "{\"policy\":{\"kind\":\"ROUND_ROBIN\"}},\"servers\":[]}],\"routes\":[],\"nodes\":{}}").getBytes(StandardCharsets.UTF_8);
        Topology read = SnapshotCodec.fromBytes(old);
        assertEquals(3, read.appliedIndex());
        assertTrue(read.certificates().isEmpty());
    }

    @Test
    void shouldNeverPrintAKey() {
        Topology t = Topology.EMPTY.apply(new PoolCommand.PutCertificate(SHOP)).topology();
        assertFalse(t.toString().contains("secret"));
        assertFalse(new PoolCommand.PutCertificate(SHOP).toString().contains("secret"));
    }
}
