package dev.weldr.raft;

import dev.weldr.pool.AuditEntry;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.Pool;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Route;
import dev.weldr.pool.Server;
import dev.weldr.pool.Topology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The audit log as replicated state: kept by the one apply, bounded, in log entries and in snapshots. */
class AuditStateTest {

    private static final Server A = new Server("http", "127.0.0.1", 8001, 1, false);

    private static AuditEntry record(String action, String target) {
        return new AuditEntry(0, 1_800_000_000_000L, "deploy-bot", "10.0.0.2:8688", action, target, action + " " + target);
    }

    @Test
    void shouldKeepTheRecordOfAnAppliedChangeUnderItsLogIndex() {
        Outcome added = Topology.EMPTY.apply(7, new PoolCommand.AddServer(Pool.DEFAULT, A), record("add-server", "default/127.0.0.1:8001"));
        assertEquals(Outcome.Result.APPLIED, added.result());
        assertEquals(7, added.topology().appliedIndex());
        assertEquals(List.of(record("add-server", "default/127.0.0.1:8001").at(7)), added.topology().audit());
        assertEquals(1, added.topology().defaultPool().size());
    }

    @Test
    void shouldKeepNoRecordOfARefusalNorOfTheClustersOwnWork() {
        Outcome refused = Topology.EMPTY.apply(3, new PoolCommand.DeleteRoute("missing"), record("delete-route", "missing"));
        assertEquals(Outcome.Result.NOT_FOUND, refused.result());
        assertTrue(refused.topology().audit().isEmpty(), "nothing changed, nothing to audit");
        assertEquals(3, refused.topology().appliedIndex());

        Outcome system = Topology.EMPTY.apply(4, new PoolCommand.RegisterNode("10.0.0.1:8688", "http://10.0.0.1:8687"), null);
        assertTrue(system.topology().audit().isEmpty());
    }

    @Test
    void shouldRecordARequestThatIsNotAPoolCommandAndChangeNothingElse() {
        Topology before = Topology.EMPTY.apply(1, new PoolCommand.AddServer(Pool.DEFAULT, A), null).topology();
        Topology after = before.apply(2, new PoolCommand.RecordAudit(), record("add-member", "10.0.0.4:8688")).topology();
        assertEquals(1, after.audit().size());
        assertEquals("add-member", after.audit().get(0).action());
        assertEquals(2, after.audit().get(0).id());
        assertSame(before.pools().iterator().next(), after.pools().iterator().next());
        assertEquals(before.routes(), after.routes());
    }

    @Test
    void shouldKeepOnlyTheNewestEntriesPastTheCap() {
        Topology t = Topology.EMPTY;
        int n = Topology.MAX_AUDIT + 5;
        for (int i = 1; i <= n; i++) {
            t = t.apply(i * 2L, new PoolCommand.UpdateServer(Pool.DEFAULT, A.key(), 1, null), record("update-server", "x")).topology();
            if (i == 1) {
                // the first update fails (no server yet): add it, unaudited, so the rest apply
                t = t.apply(i * 2L + 1, new PoolCommand.AddServer(Pool.DEFAULT, A), null).topology();
            }
        }
        List<AuditEntry> audit = t.audit();
        assertEquals(Topology.MAX_AUDIT, audit.size());
        assertEquals(n * 2L, audit.get(audit.size() - 1).id(), "the newest is kept");
        assertEquals((n - Topology.MAX_AUDIT + 1) * 2L, audit.get(0).id(), "the oldest went");
    }

    @Test
    void shouldCarryTheRecordInTheSameLogEntryAsTheChange() throws Exception {
        AuditEntry audit = record("put-route", "r");
        PoolCommand route = new PoolCommand.PutRoute(new Route("r", "shop.example", "/", Pool.DEFAULT));
        CommandCodec.Entry read = CommandCodec.decodeEntry(ByteBuffer.wrap(CommandCodec.encode(route, audit)));
        assertEquals(route, read.command());
        assertEquals(audit, read.audit());

        CommandCodec.Entry request = CommandCodec.decodeEntry(ByteBuffer.wrap(CommandCodec.encode(new PoolCommand.RecordAudit(),
                record("remove-member", "10.0.0.3:8688"))));
        assertEquals(new PoolCommand.RecordAudit(), request.command());
        assertEquals(record("remove-member", "10.0.0.3:8688"), request.audit());
    }

    /** An entry as the version before the audit log wrote it (exact bytes): the same command, no record. */
    @Test
    void shouldReadALogEntryWrittenBeforeTheAuditLog() throws Exception {
        byte[] old = "{\"op\":\"delete-route\",\"name\":\"r\"}".getBytes(StandardCharsets.UTF_8);
        CommandCodec.Entry read = CommandCodec.decodeEntry(ByteBuffer.wrap(old));
        assertEquals(new PoolCommand.DeleteRoute("r"), read.command());
        assertNull(read.audit());
        assertEquals(new String(old, StandardCharsets.UTF_8),
                new String(CommandCodec.encode(new PoolCommand.DeleteRoute("r")), StandardCharsets.UTF_8),
                "the cluster's own work is written as before");
    }

    @Test
    void shouldKeepTheAuditLogInSnapshots(@TempDir Path dir) throws Exception {
        Topology t = Topology.EMPTY.apply(5, new PoolCommand.CreatePool("api", PoolSettings.DEFAULTS), record("create-pool", "api"))
                .topology().apply(9, new PoolCommand.RecordAudit(), record("transfer-leadership", "10.0.0.3:8688")).topology();
        SnapshotCodec.write(t, dir);
        Topology read = SnapshotCodec.read(dir);
        assertEquals(t, read);
        assertEquals(List.of(5L, 9L), read.audit().stream().map(AuditEntry::id).toList());
        assertEquals(t.audit(), read.audit());
    }

    @Test
    void shouldReadASnapshotWrittenBeforeTheAuditLogWithAnEmptyOne() throws Exception {
        byte[] old = ("{\"format\":2,\"appliedIndex\":3,\"pools\":[{\"name\":\"default\",\"settings\":"
                + "{\"policy\":{\"kind\":\"ROUND_ROBIN\"}},\"servers\":[]}],\"routes\":[],\"nodes\":{},\"certificates\":[],"
                + "\"ticketKeys\":[],\"managed\":[]}").getBytes(StandardCharsets.UTF_8);
        Topology read = SnapshotCodec.fromBytes(old);
        assertTrue(read.audit().isEmpty());
        assertEquals(3, read.appliedIndex());
        // and the next change is audited on top of it
        Topology next = read.apply(4, new PoolCommand.DeletePool("default"), record("delete-pool", "default")).topology();
        assertTrue(next.audit().isEmpty(), "refused: the default pool stays");
        assertEquals(1, read.apply(4, new PoolCommand.AddServer(Pool.DEFAULT, A), record("add-server", "a")).topology().audit().size());
    }
}
