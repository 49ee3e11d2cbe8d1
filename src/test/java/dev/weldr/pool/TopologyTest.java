package dev.weldr.pool;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.weldr.pool.Pool.DEFAULT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TopologyTest {

    private static Server server(String host, int port) {
        return Server.of(new ServerUrl("http", host, port));
    }

    private static Topology add(Topology t, String pool, Server s) {
        Outcome o = t.apply(new PoolCommand.AddServer(pool, s));
        assertEquals(Outcome.Result.APPLIED, o.result());
        return o.topology();
    }

    @Test
    void shouldAlwaysHaveAnEmptyDefaultPoolToStartWith() {
        assertEquals(List.of(DEFAULT), Topology.EMPTY.pools().stream().map(Pool::name).toList());
        assertEquals(0, Topology.EMPTY.defaultPool().size());
        assertEquals(PoolSettings.DEFAULTS, Topology.EMPTY.defaultPool().settings());
    }

    /** h2 is agreed in the TLS handshake, h2c is cleartext: every replica refuses a server its pool cannot reach. */
    @Test
    void shouldRefuseAServerOrAProtocolTheOtherCannotSpeak() {
        PoolSettings h2 = new PoolSettings(LbPolicy.ROUND_ROBIN, HealthCheckSpec.DEFAULTS, OutlierSpec.DEFAULTS, Limits.DEFAULTS,
                BackendTls.DEFAULTS, BackendProtocol.H2);
        PoolSettings h2c = new PoolSettings(LbPolicy.ROUND_ROBIN, HealthCheckSpec.DEFAULTS, OutlierSpec.DEFAULTS, Limits.DEFAULTS,
                BackendTls.DEFAULTS, BackendProtocol.H2C);
        Server plain = server("10.0.0.1", 50051);
        Server tls = Server.of(new ServerUrl("https", "10.0.0.2", 443));
        Topology t = Topology.EMPTY.apply(new PoolCommand.CreatePool("secure", h2)).topology()
                .apply(new PoolCommand.CreatePool("clear", h2c)).topology();

        Outcome refused = t.apply(new PoolCommand.AddServer("secure", plain));
        assertEquals(Outcome.Result.WRONG_SCHEME, refused.result());
        assertSame(t, refused.topology());
        assertEquals(plain, refused.server());
        assertEquals(Outcome.Result.WRONG_SCHEME, t.apply(new PoolCommand.AddServer("clear", tls)).result());
        t = add(add(t, "secure", tls), "clear", plain);

        Outcome toH2c = t.apply(new PoolCommand.UpdatePool("secure", h2c));
        assertEquals(Outcome.Result.WRONG_SCHEME, toH2c.result());
        assertEquals(tls, toH2c.server(), "names the server the new protocol cannot reach");
        assertEquals(Outcome.Result.WRONG_SCHEME, t.apply(new PoolCommand.UpdatePool("clear", h2)).result());
        assertEquals(Outcome.Result.APPLIED, t.apply(new PoolCommand.UpdatePool("clear", PoolSettings.DEFAULTS)).result(),
                "HTTP/1.1 reaches both schemes");
        Topology mixed = add(add(Topology.EMPTY, DEFAULT, plain), DEFAULT, tls);
        assertEquals(Outcome.Result.WRONG_SCHEME, mixed.apply(new PoolCommand.UpdatePool(DEFAULT, h2c)).result());
    }

    @Test
    void shouldRefuseAPoolPastTheCapOnEveryReplicaAlike() {
        Topology t = Topology.EMPTY;
        for (int i = 1; i < Topology.MAX_POOLS; i++) {
            t = t.apply(new PoolCommand.CreatePool("p" + i, PoolSettings.DEFAULTS)).topology();
        }
        assertEquals(Topology.MAX_POOLS, t.pools().size());

        Outcome o = t.apply(new PoolCommand.CreatePool("one-more", PoolSettings.DEFAULTS));
        assertEquals(Outcome.Result.TOO_MANY, o.result());
        assertSame(t, o.topology());
        assertEquals(Outcome.Result.ALREADY_EXISTS, t.apply(new PoolCommand.CreatePool("p1", PoolSettings.DEFAULTS)).result());
        Topology fewer = t.apply(new PoolCommand.DeletePool("p1")).topology();
        assertEquals(Outcome.Result.APPLIED, fewer.apply(new PoolCommand.CreatePool("one-more", PoolSettings.DEFAULTS)).result());
    }

    @Test
    void shouldRefuseANewRoutePastTheCapButStillReplaceOne() {
        Topology t = Topology.EMPTY;
        for (int i = 0; i < Topology.MAX_ROUTES; i++) {
            t = t.apply(new PoolCommand.PutRoute(new Route("r" + i, "", "/" + i, DEFAULT))).topology();
        }
        assertEquals(Topology.MAX_ROUTES, t.routes().size());

        Outcome o = t.apply(new PoolCommand.PutRoute(new Route("one-more", "", "/x", DEFAULT)));
        assertEquals(Outcome.Result.TOO_MANY, o.result());
        assertSame(t, o.topology());
        Outcome replaced = t.apply(new PoolCommand.PutRoute(new Route("r7", "", "/seven", DEFAULT)));
        assertEquals(Outcome.Result.APPLIED, replaced.result());
        assertEquals(Topology.MAX_ROUTES, replaced.topology().routes().size());
    }

    @Test
    void shouldAddServersInOrder() {
        Topology t = Topology.EMPTY;
        for (int port = 9005; port > 9000; port--) {
            t = add(t, DEFAULT, server("10.0.0.1", port));
        }
        assertEquals(List.of(9005, 9004, 9003, 9002, 9001), t.defaultPool().servers().stream().map(Server::port).toList());
    }

    @Test
    void shouldRejectADuplicateWithoutChangingAnything() {
        Server a = server("127.0.0.1", 8001);
        Topology t = add(Topology.EMPTY, DEFAULT, a);
        Outcome o = t.apply(new PoolCommand.AddServer(DEFAULT, new Server("https", "127.0.0.1", 8001, 1, false)));
        assertEquals(Outcome.Result.ALREADY_EXISTS, o.result());
        assertSame(t, o.topology());
        assertEquals(a, o.server());
    }

    @Test
    void shouldRemoveByHostAndPortCaseInsensitively() {
        Topology t = add(Topology.EMPTY, DEFAULT, server("backend.local", 80));
        Outcome o = t.apply(new PoolCommand.RemoveServer(DEFAULT, new ServerKey("BACKEND.local", 80)));
        assertEquals(Outcome.Result.APPLIED, o.result());
        assertEquals(0, o.topology().defaultPool().size());
        assertEquals("backend.local", o.server().host());
        assertEquals(Outcome.Result.NOT_FOUND, o.topology().apply(new PoolCommand.RemoveServer(DEFAULT, new ServerKey("backend.local", 80))).result());
    }

    @Test
    void shouldChangeWeightAndDrainOnlyWhereAsked() {
        Topology t = add(Topology.EMPTY, DEFAULT, server("127.0.0.1", 1));
        ServerKey key = new ServerKey("127.0.0.1", 1);
        Topology weighted = t.apply(new PoolCommand.UpdateServer(DEFAULT, key, 5, null)).topology();
        assertEquals(5, weighted.defaultPool().get(key).weight());
        assertEquals(false, weighted.defaultPool().get(key).draining());
        Topology drained = weighted.apply(new PoolCommand.UpdateServer(DEFAULT, key, null, true)).topology();
        assertEquals(5, drained.defaultPool().get(key).weight());
        assertTrue(drained.defaultPool().get(key).draining());
        assertEquals(1, t.defaultPool().get(key).weight(), "the old topology is unchanged");
        assertEquals(Outcome.Result.NOT_FOUND, t.apply(new PoolCommand.UpdateServer(DEFAULT, new ServerKey("x", 1), 2, null)).result());
    }

    @Test
    void shouldKeepPoolsApartAndRefuseServersForAPoolThatDoesNotExist() {
        Topology t = Topology.EMPTY.apply(new PoolCommand.CreatePool("api", PoolSettings.DEFAULTS)).topology();
        t = add(t, "api", server("127.0.0.1", 1));
        assertEquals(1, t.pool("api").size());
        assertEquals(0, t.defaultPool().size());
        assertEquals(Outcome.Result.NO_SUCH_POOL, t.apply(new PoolCommand.AddServer("nope", server("127.0.0.1", 2))).result());
        assertEquals(Outcome.Result.ALREADY_EXISTS, t.apply(new PoolCommand.CreatePool("api", PoolSettings.DEFAULTS)).result());
    }

    @Test
    void shouldUpdateAPoolsSettingsAndKeepItsServers() {
        Topology t = Topology.EMPTY.apply(new PoolCommand.CreatePool("api", PoolSettings.DEFAULTS)).topology();
        t = add(t, "api", server("127.0.0.1", 1));
        PoolSettings lr = new PoolSettings(new LbPolicy(LbPolicy.Kind.LEAST_REQUESTS, null, null),
                HealthCheckSpec.DEFAULTS, OutlierSpec.DEFAULTS, new Limits(2, 10));
        Topology u = t.apply(new PoolCommand.UpdatePool("api", lr)).topology();
        assertEquals(lr, u.pool("api").settings());
        assertEquals(1, u.pool("api").size());
        assertEquals(Outcome.Result.NO_SUCH_POOL, t.apply(new PoolCommand.UpdatePool("nope", lr)).result());
    }

    @Test
    void shouldNotDeleteTheDefaultPoolNorAPoolARouteUses() {
        Topology t = Topology.EMPTY.apply(new PoolCommand.CreatePool("api", PoolSettings.DEFAULTS)).topology();
        assertEquals(Outcome.Result.IN_USE, t.apply(new PoolCommand.DeletePool(DEFAULT)).result());
        Topology routed = t.apply(new PoolCommand.PutRoute(new Route("r", "", "/api", "api"))).topology();
        assertEquals(Outcome.Result.IN_USE, routed.apply(new PoolCommand.DeletePool("api")).result());
        Topology unrouted = routed.apply(new PoolCommand.DeleteRoute("r")).topology();
        Outcome deleted = unrouted.apply(new PoolCommand.DeletePool("api"));
        assertEquals(Outcome.Result.APPLIED, deleted.result());
        assertNull(deleted.topology().pool("api"));
        assertEquals(Outcome.Result.NO_SUCH_POOL, deleted.topology().apply(new PoolCommand.DeletePool("api")).result());
    }

    @Test
    void shouldRefuseARouteToAPoolThatDoesNotExist() {
        Outcome o = Topology.EMPTY.apply(new PoolCommand.PutRoute(new Route("r", "", "/", "ghost")));
        assertEquals(Outcome.Result.NO_SUCH_POOL, o.result());
        assertTrue(o.topology().routes().isEmpty());
    }

    @Test
    void shouldReplaceARouteOfTheSameName() {
        Topology t = Topology.EMPTY.apply(new PoolCommand.CreatePool("a", PoolSettings.DEFAULTS)).topology();
        t = t.apply(new PoolCommand.PutRoute(new Route("r", "", "/x", "a"))).topology();
        t = t.apply(new PoolCommand.PutRoute(new Route("r", "", "/y", DEFAULT))).topology();
        assertEquals(1, t.routes().size());
        assertEquals("/y", t.routes().get(0).pathPrefix());
        assertEquals(Outcome.Result.NOT_FOUND, t.apply(new PoolCommand.DeleteRoute("zz")).result());
    }

    @Test
    void shouldRecordANodesAdminUrlWithoutTouchingThePools() {
        Topology t = add(Topology.EMPTY, DEFAULT, server("127.0.0.1", 1));
        Topology r = t.apply(new PoolCommand.RegisterNode("n1:8688", "http://n1:8687")).topology();
        assertEquals(List.copyOf(t.defaultPool().servers()), List.copyOf(r.defaultPool().servers()));
        assertEquals(Map.of("n1:8688", "http://n1:8687"), r.nodes());
        assertTrue(t.nodes().isEmpty());
    }

    @Test
    void shouldTreatServerOrderAsPartOfEquality() {
        Topology ab = add(add(Topology.EMPTY, DEFAULT, server("a", 1)), DEFAULT, server("b", 1));
        Topology ba = add(add(Topology.EMPTY, DEFAULT, server("b", 1)), DEFAULT, server("a", 1));
        assertNotEquals(ab, ba);
    }

    @Test
    void shouldGiveIPv6HostsABracketedId() {
        assertEquals("[::1]:8080", server("::1", 8080).id());
        assertEquals("http://[::1]:8080", server("::1", 8080).url());
    }
}
