package dev.weldr.pool;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the replicated state keeps per server, measured as the bench adds them: one by one, each
 * add an audited log entry. A 10,000-server pool must stay a few MB of live heap (README's
 * Performance section: about 50 MB for the whole node at 10,000 servers, 20 MB once they are
 * gone); a copy of an old topology or a per-add record kept without bound would show here.
 */
class TopologyMemoryTest {

    private static final int SERVERS = 10_000;
    /** Server, key, host string and map entry are some 200 bytes; the bound leaves room for the JVM's layout. */
    private static final long MAX_BYTES_PER_SERVER = 1024;

    @Test
    void shouldKeepUnderOneKilobytePerServerAndGiveItBackWhenTheyAreRemoved() {
        long before = liveHeap();
        Topology t = Topology.EMPTY;
        long index = 1;
        for (int i = 0; i < SERVERS; i++) {
            Server server = new Server("http", "127.%d.%d.%d".formatted(1 + i / 65025, (i / 255) % 255, 1 + i % 255), 8080, 1, false);
            t = t.apply(index++, new PoolCommand.AddServer(Pool.DEFAULT, server), audit("add-server", server)).topology();
        }
        long full = liveHeap();
        assertEquals(SERVERS, t.pool(Pool.DEFAULT).servers().size());
        long perServer = (full - before) / SERVERS;
        assertTrue(perServer < MAX_BYTES_PER_SERVER, perServer + " bytes of live heap per server");

        for (Server server : List.copyOf(t.pool(Pool.DEFAULT).servers())) {
            t = t.apply(index++, new PoolCommand.RemoveServer(Pool.DEFAULT, server.key()), audit("remove-server", server)).topology();
        }
        long emptied = liveHeap();
        assertTrue(t.pool(Pool.DEFAULT).servers().isEmpty());
        // What stays is the audit log, bounded at MAX_AUDIT records whatever the number of changes.
        assertTrue(emptied - before < Topology.MAX_AUDIT * (long) MAX_BYTES_PER_SERVER,
                (emptied - before) + " bytes still live after every server was removed");
    }

    private static AuditEntry audit(String action, Server server) {
        String target = Pool.DEFAULT + "/" + server.host() + ":" + server.port();
        return new AuditEntry(0, 1_800_000_000_000L, "deploy-bot", "127.0.0.1:8688", action, target, action + " " + target);
    }

    /** Heap in use after full collections, once two in a row agree within 1 %. */
    private static long liveHeap() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long previous = Long.MAX_VALUE;
        for (int i = 0; i < 10; i++) {
            System.gc();
            long used = memory.getHeapMemoryUsage().getUsed();
            if (Math.abs(previous - used) < used / 100) {
                return used;
            }
            previous = used;
        }
        return previous;
    }
}
