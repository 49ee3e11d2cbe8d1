package dev.weldr.proxy;

import dev.weldr.pool.Pool;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Route;
import dev.weldr.pool.Topology;

import java.util.List;
import java.util.Map;

/** The routes and every pool's table, swapped in whole: one volatile read per request. */
final class RoutingTable {

    private static final PoolTable NO_POOL = new PoolTable(Pool.DEFAULT, PoolSettings.DEFAULTS, List.of(), 0, null);
    static final RoutingTable EMPTY = new RoutingTable(Topology.EMPTY, Map.of(), null);

    private final Map<String, PoolTable> pools;
    private final List<Route> routes;
    /** Null when there are no routes: every request goes to the default pool. */
    private final RouteIndex index;
    /** The table of each pool the index answers, by slot. */
    private final PoolTable[] routed;
    private final PoolTable defaultPool;

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
        routed = new PoolTable[index == null ? 0 : index.pools.size()];
        for (int i = 0; i < routed.length; i++) {
            routed[i] = orNoPool(pools.get(index.pools.get(i)));
        }
        defaultPool = orNoPool(pools.get(Pool.DEFAULT));
    }

    private static PoolTable orNoPool(PoolTable t) {
        return t != null ? t : NO_POOL;
    }

    /** The table of a pool by name, or null. */
    PoolTable pool(String name) {
        return pools.get(name);
    }

    /** The table of the pool for this request; never null. No string is made of the request. */
    PoolTable route(HttpHead request) {
        if (index == null) {
            return defaultPool;
        }
        int slot = index.find(request);
        return slot < 0 ? defaultPool : routed[slot];
    }
}
