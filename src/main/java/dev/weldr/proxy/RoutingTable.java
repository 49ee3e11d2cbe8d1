package dev.weldr.proxy;

import dev.weldr.pool.Pool;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Topology;

import java.util.List;
import java.util.Map;

/** The routes and every pool's table, swapped in whole: one volatile read per request. */
final class RoutingTable {

    private static final PoolTable NO_POOL = new PoolTable(Pool.DEFAULT, PoolSettings.DEFAULTS, List.of(), 0);
    static final RoutingTable EMPTY = new RoutingTable(Topology.EMPTY, Map.of());

    private final Topology topology;
    private final Map<String, PoolTable> pools;

    RoutingTable(Topology topology, Map<String, PoolTable> pools) {
        this.topology = topology;
        this.pools = pools;
    }

    /** The table of a pool by name, or null. */
    PoolTable pool(String name) {
        return pools.get(name);
    }

    /** The table of the pool for this request; never null. Without routes, no string is made of it. */
    PoolTable route(HttpHead request) {
        if (topology.routes().isEmpty()) {
            PoolTable t = pools.get(Pool.DEFAULT);
            return t != null ? t : NO_POOL;
        }
        return route(request.hostForRouting(), request.path());
    }

    /** The table of the pool for this host (lower case, no port) and path; never null. */
    PoolTable route(String host, String path) {
        PoolTable t = pools.get(topology.poolFor(host, path));
        return t != null ? t : NO_POOL;
    }
}
