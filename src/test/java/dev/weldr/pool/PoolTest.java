package dev.weldr.pool;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolTest {

    private static Server server(String host, int port) {
        return Server.of(new ServerUrl("http", host, port));
    }

    @Test
    void shouldAddAServerToAnEmptyPool() {
        Server a = server("127.0.0.1", 8001);
        Outcome outcome = Topology.EMPTY.apply(new PoolCommand.AddServer(a));
        assertEquals(Outcome.Result.APPLIED, outcome.result());
        assertEquals(List.of(a), List.copyOf(outcome.pool().servers()));
        assertEquals(a, outcome.server());
    }

    @Test
    void shouldKeepInsertionOrder() {
        Topology pool = Topology.EMPTY;
        for (int port = 9005; port > 9000; port--) {
            pool = pool.apply(new PoolCommand.AddServer(server("10.0.0.1", port))).pool();
        }
        assertEquals(List.of(9005, 9004, 9003, 9002, 9001), pool.servers().stream().map(Server::port).toList());
    }

    @Test
    void shouldRejectADuplicateWithoutChangingThePool() {
        Server a = server("127.0.0.1", 8001);
        Topology pool = Topology.EMPTY.apply(new PoolCommand.AddServer(a)).pool();
        Server sameKeyOtherScheme = new Server("https", "127.0.0.1", 8001, 1, false);
        Outcome outcome = pool.apply(new PoolCommand.AddServer(sameKeyOtherScheme));
        assertEquals(Outcome.Result.ALREADY_EXISTS, outcome.result());
        assertSame(pool, outcome.pool());
        assertEquals(a, outcome.server());
    }

    @Test
    void shouldRemoveByHostAndPortCaseInsensitively() {
        Topology pool = Topology.EMPTY.apply(new PoolCommand.AddServer(server("backend.local", 80))).pool();
        Outcome outcome = pool.apply(new PoolCommand.RemoveServer(new ServerKey("BACKEND.local", 80)));
        assertEquals(Outcome.Result.APPLIED, outcome.result());
        assertEquals(0, outcome.pool().size());
        assertEquals("backend.local", outcome.server().host());
    }

    @Test
    void shouldReportNotFoundForAnUnknownServer() {
        Topology pool = Topology.EMPTY.apply(new PoolCommand.AddServer(server("127.0.0.1", 1))).pool();
        Outcome outcome = pool.apply(new PoolCommand.RemoveServer(new ServerKey("127.0.0.1", 2)));
        assertEquals(Outcome.Result.NOT_FOUND, outcome.result());
        assertSame(pool, outcome.pool());
        assertNull(outcome.server());
    }

    @Test
    void shouldNeverChangeThePoolItWasAppliedTo() {
        Topology before = Topology.EMPTY.apply(new PoolCommand.AddServer(server("127.0.0.1", 1))).pool();
        Topology after = before.apply(new PoolCommand.AddServer(server("127.0.0.1", 2))).pool();
        assertNotSame(before, after);
        assertEquals(1, before.size());
        assertEquals(2, after.size());
        Topology removed = after.apply(new PoolCommand.RemoveServer(new ServerKey("127.0.0.1", 1))).pool();
        assertEquals(2, after.size());
        assertEquals(1, removed.size());
    }

    @Test
    void shouldTreatOrderAsPartOfEquality() {
        Topology ab = Topology.of(3, List.of(server("a", 1), server("b", 1)));
        Topology ba = Topology.of(3, List.of(server("b", 1), server("a", 1)));
        assertTrue(!ab.equals(ba));
        assertEquals(ab, Topology.of(3, List.of(server("a", 1), server("b", 1))));
    }

    @Test
    void shouldRecordANodesAdminUrlWithoutTouchingTheServers() {
        Topology pool = Topology.EMPTY.apply(new PoolCommand.AddServer(server("127.0.0.1", 1))).pool();
        Topology registered = pool.apply(new PoolCommand.RegisterNode("n1:8688", "http://n1:8687")).pool();
        assertEquals(List.copyOf(pool.servers()), List.copyOf(registered.servers()));
        assertEquals("http://n1:8687", registered.nodes().get("n1:8688"));
        Topology moved = registered.apply(new PoolCommand.RegisterNode("n1:8688", "http://n1:9000")).pool();
        assertEquals("http://n1:9000", moved.nodes().get("n1:8688"));
        assertTrue(pool.nodes().isEmpty());
    }

    @Test
    void shouldGiveIPv6HostsABracketedId() {
        assertEquals("[::1]:8080", server("::1", 8080).id());
        assertEquals("http://[::1]:8080", server("::1", 8080).url());
    }
}
