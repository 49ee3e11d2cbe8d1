package dev.weldr.proxy;

import dev.weldr.pool.Hsts;
import dev.weldr.pool.Pool;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Route;
import dev.weldr.pool.Topology;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** The routes and every pool's table, swapped in whole: one volatile read per request. */
final class RoutingTable {

    private static final PoolTable NO_POOL = new PoolTable(Pool.DEFAULT, PoolSettings.DEFAULTS, List.of(), 0, null);
    static final RoutingTable EMPTY = new RoutingTable(Topology.EMPTY, Map.of(), null);

    /** What a request's route gives it: its pool, and what weldr does itself for the route. */
    static final class Target {
        final PoolTable pool;
        /** A request on the plain listener gets a 308 to HTTPS instead of a backend. */
        final boolean httpsRedirect;
        /** The Strict-Transport-Security line (CR LF included) of the answers over HTTPS; null for none. */
        final byte[] hsts;

        Target(PoolTable pool, boolean httpsRedirect, Hsts hsts) {
            this.pool = pool;
            this.httpsRedirect = httpsRedirect;
            this.hsts = hsts == null ? null
                    : ("strict-transport-security: " + hsts.value() + "\r\n").getBytes(StandardCharsets.US_ASCII);
        }
    }

    private final Map<String, PoolTable> pools;
    private final List<Route> routes;
    /** Null when there are no routes: every request goes to the default pool. */
    private final RouteIndex index;
    /** What each slot of the index answers. */
    private final Target[] routed;
    private final Target defaultPool;

    /**
     * {@code previous}: the table this one replaces, whose route index is kept when the routes
     * did not change (a table is rebuilt at every change of a server's health).
     */
    RoutingTable(Topology topology, Map<String, PoolTable> pools, RoutingTable previous) {
        this.pools = pools;
        this.routes = topology.routes();
        if (routes.isEmpty()) {
            index = null;
        } else if (previous != null && previous.index != null && previous.routes.equals(routes)) {
            index = previous.index;
        } else {
            index = RouteIndex.of(routes);
        }
        routed = new Target[index == null ? 0 : index.slots.size()];
        for (int i = 0; i < routed.length; i++) {
            RouteIndex.Slot slot = index.slots.get(i);
            routed[i] = new Target(orNoPool(pools.get(slot.pool())), slot.httpsRedirect(), slot.hsts());
        }
        defaultPool = new Target(orNoPool(pools.get(Pool.DEFAULT)), false, null);
    }

    private static PoolTable orNoPool(PoolTable t) {
        return t != null ? t : NO_POOL;
    }

    /** The table of a pool by name, or null. */
    PoolTable pool(String name) {
        return pools.get(name);
    }

    /** What this request's route gives it; never null. No string is made of the request. */
    Target route(Request request) {
        if (index == null) {
            return defaultPool;
        }
        int slot = index.find(request);
        return slot < 0 ? defaultPool : routed[slot];
    }
}
