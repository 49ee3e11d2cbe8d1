package dev.weldr.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weldr.pool.Actor;
import dev.weldr.pool.AuditEntry;
import dev.weldr.pool.Certificate;
import dev.weldr.pool.ManagedCertificate;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.Topology;
import dev.weldr.raft.CommandCodec;
import dev.weldr.raft.SnapshotCodec;
import dev.weldr.tls.KeySeal;
import dev.weldr.tls.TestCertificates;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an audit record says of a change, and what it must never hold. */
class AuditRecordsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Actor BOT = new Actor("deploy-bot", "127.0.0.1:8690");

    @Test
    void shouldDescribeAnUploadedCertificateByNamesExpiryAndFingerprintAndNeverItsKey() throws Exception {
        TestCertificates.Issued leaf = TestCertificates.leaf(TestCertificates.ca("root"), "shop.example", "www.shop.example");
        String chain = TestCertificates.pem(leaf.certificate());
        String key = TestCertificates.pem(leaf.keys().getPrivate());
        assertTrue(key.contains("PRIVATE KEY"), key);
        String sealed = new KeySeal("audit-test-store-key-0123456789").seal("shop", key);
        for (String stored : List.of(key, sealed)) {
            PoolCommand put = new PoolCommand.PutCertificate(new Certificate("shop", chain, stored));
            AuditEntry audit = AuditRecords.of(put, BOT, 1_800_000_000_000L);
            assertEquals("put-certificate", audit.action());
            assertEquals("shop", audit.target());
            assertTrue(audit.summary().contains("shop.example, www.shop.example"), audit.summary());
            assertTrue(audit.summary().contains(leaf.certificate().getNotAfter().toInstant().toString()), audit.summary());
            assertTrue(audit.summary().contains("SHA-256 "), audit.summary());

            // As the log entry carries it, and as a snapshot keeps it once applied.
            Topology t = Topology.EMPTY.apply(12, put, audit).topology();
            JsonNode inEntry = JSON.readTree(CommandCodec.encode(put, audit)).get("audit");
            JsonNode inSnapshot = JSON.readTree(SnapshotCodec.toBytes(t)).get("audit");
            assertEquals(1, inSnapshot.size());
            for (String text : List.of(audit.toString(), inEntry.toString(), inSnapshot.toString())) {
                assertFalse(text.contains("PRIVATE KEY"), text);
                assertFalse(text.contains(stored.substring(stored.length() / 2, stored.length() / 2 + 32)), "no part of the key: " + text);
                assertFalse(text.contains(sealed), text);
            }
        }
    }

    @Test
    void shouldNameTheCallerTheNodeAndWhatChanged() {
        AuditEntry r = AuditRecords.of(new PoolCommand.PutManagedCertificate(ManagedCertificate.requested("shop",
                List.of("shop.example"))), BOT, 42);
        assertEquals(new AuditEntry(0, 42, "deploy-bot", "127.0.0.1:8690", "request-certificate", "shop",
                "asked for certificate shop through ACME for shop.example"), r);
        assertEquals("deleted certificate shop",
                AuditRecords.of(new PoolCommand.DeleteCertificate("shop"), BOT, 42).summary());
        assertTrue(new String(CommandCodec.encode(new PoolCommand.DeleteCertificate("shop"),
                AuditRecords.of(new PoolCommand.DeleteCertificate("shop"), BOT, 42)), StandardCharsets.UTF_8).contains("deploy-bot"));
    }

    @Test
    void shouldKeepEachRecordSmallWhateverTheChangeCarries() {
        List<String> names = java.util.stream.IntStream.range(0, 100).mapToObj(i -> "host-" + i + ".shop.example").toList();
        AuditEntry many = AuditRecords.of(new PoolCommand.PutManagedCertificate(ManagedCertificate.requested("shop", names)), BOT, 42);
        assertEquals("asked for certificate shop through ACME for host-0.shop.example, host-1.shop.example, host-2.shop.example, "
                + "host-3.shop.example, host-4.shop.example and 95 more", many.summary());
        AuditEntry longRoute = AuditRecords.of(new PoolCommand.PutRoute(new dev.weldr.pool.Route("r", "", "/" + "a".repeat(4000), "default")), BOT, 42);
        assertEquals(AuditRecords.MAX_SUMMARY, longRoute.summary().length());
        assertTrue(longRoute.summary().startsWith("route r: host any, path prefix /aaa"), longRoute.summary());
    }
}
