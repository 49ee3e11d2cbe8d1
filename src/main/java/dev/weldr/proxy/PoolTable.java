package dev.weldr.proxy;

import dev.weldr.pool.PoolSettings;
import dev.weldr.proxy.lb.LoadBalancer;
import dev.weldr.proxy.lb.Policies;

import java.util.List;

/**
 * One pool as the proxy uses it at one moment: its settings, and the servers that may take new
 * requests. Immutable; a new table is built when the pool, a server's health or an ejection changes.
 */
final class PoolTable {

    final String name;
    final PoolSettings settings;
    final List<Backend> routable;
    final int size;
    final LoadBalancer.Factory balancers;

    PoolTable(String name, PoolSettings settings, List<Backend> routable, int size) {
        this.name = name;
        this.settings = settings;
        this.routable = List.copyOf(routable);
        this.size = size;
        this.balancers = Policies.factory(settings.policy());
    }
}
