package dev.weldr.proxy;

import dev.weldr.pool.LbPolicy;
import dev.weldr.pool.PoolSettings;
import dev.weldr.proxy.lb.LoadBalancer;
import dev.weldr.proxy.lb.Policies;
import io.netty.handler.ssl.SslContext;

import java.util.List;

/**
 * One pool as the proxy uses it at one moment: its settings, and the servers that may take new
 * requests. Immutable; a new table is built when the pool, a server's health or an ejection
 * changes, and only then (so balancers keep their position while other pools change).
 */
final class PoolTable {

    final String name;
    final PoolSettings settings;
    final List<Backend> routable;
    final int size;
    final LoadBalancer.Factory balancers;
    /**
     * A balancer every event loop can share, when the policy keeps no state between picks (a
     * consistent-hash ring): built once here, off the event loops, instead of once per loop.
     */
    final LoadBalancer<Backend> shared;
    /**
     * The client context for the pool's {@code https://} servers, built off the event loops when
     * the pool's TLS setting changed (see {@link BackendRegistry}); null when it could not be built.
     */
    final SslContext tls;
    /** The weights the balancers were built with (a weight change updates a Backend in place). */
    private final int[] weights;

    PoolTable(String name, PoolSettings settings, List<Backend> routable, int size, SslContext tls) {
        this.name = name;
        this.tls = tls;
        this.settings = settings;
        this.routable = List.copyOf(routable);
        this.size = size;
        this.weights = new int[this.routable.size()];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = this.routable.get(i).weight();
        }
        this.balancers = Policies.factory(settings.policy());
        this.shared = settings.policy().kind() == LbPolicy.Kind.CONSISTENT_HASH && !routable.isEmpty()
                ? balancers.create(this.routable) : null;
    }

    /** True when this table would route exactly as one built from these parts. */
    boolean sameAs(PoolSettings otherSettings, List<Backend> otherRoutable, int otherSize, SslContext otherTls) {
        if (!settings.equals(otherSettings) || tls != otherTls || size != otherSize || routable.size() != otherRoutable.size()) {
            return false;
        }
        for (int i = 0; i < routable.size(); i++) {
            Backend b = routable.get(i);
            if (b != otherRoutable.get(i) || b.weight() != weights[i]) {
                return false;
            }
        }
        return true;
    }
}
