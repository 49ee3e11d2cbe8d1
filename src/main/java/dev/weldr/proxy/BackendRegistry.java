package dev.weldr.proxy;

import dev.weldr.cluster.PoolHolder;
import dev.weldr.health.StatusSetter;
import dev.weldr.pool.Topology;
import dev.weldr.pool.Server;
import dev.weldr.pool.ServerKey;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Joins the replicated pool with this node's observations into the routing table the proxy
 * reads: an immutable array of routable backends, swapped in with one volatile write whenever
 * the pool or a server's health changes. The hot path never locks.
 */
@Startup
@ApplicationScoped
public class BackendRegistry implements StatusSetter {

    @Inject
    PoolHolder holder;

    private final Object lock = new Object();
    private volatile Map<ServerKey, Backend> backends = Map.of();
    private volatile Backend[] routable = new Backend[0];

    @PostConstruct
    void init() {
        holder.subscribe(this::onPool);
    }

    private void onPool(Topology pool) {
        synchronized (lock) {
            Map<ServerKey, Backend> old = backends;
            Map<ServerKey, Backend> next = new LinkedHashMap<>(pool.size() * 2);
            for (Server server : pool.servers()) {
                Backend b = old.get(server.key());
                if (b == null) {
                    b = new Backend(server);
                } else if (!b.server().equals(server)) {
                    b.server(server);
                }
                next.put(server.key(), b);
            }
            backends = next;
            rebuild();
        }
    }

    @Override
    public boolean setUp(ServerKey key, boolean up) {
        synchronized (lock) {
            Backend b = backends.get(key);
            if (b == null || b.up() == up) {
                return false;
            }
            b.up(up);
            rebuild();
            return true;
        }
    }

    private void rebuild() {
        List<Backend> list = new ArrayList<>(backends.size());
        for (Backend b : backends.values()) {
            if (b.routable()) {
                list.add(b);
            }
        }
        routable = list.toArray(new Backend[0]);
    }

    /** The backends that may take new requests, in pool order. Do not modify the array. */
    Backend[] routable() {
        return routable;
    }

    /** Every backend of the pool, in pool order. */
    public Map<ServerKey, Backend> all() {
        return backends;
    }

    public Backend get(ServerKey key) {
        return backends.get(key);
    }

    boolean poolEmpty() {
        return backends.isEmpty();
    }
}
