package dev.weldr.proxy;

import dev.weldr.cluster.Leadership;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Gauges of the pool and of Raft: {@code weldr_server_up}, {@code weldr_raft_is_leader},
 * {@code weldr_raft_term}; and the removal of every per-server series once its server has left
 * every pool (checked each second, when the set of servers changed).
 */
@ApplicationScoped
public class ServerMetrics {

    @Inject
    MeterRegistry registry;
    @Inject
    BackendRegistry backends;
    @Inject
    Leadership leadership;
    @Inject
    Vertx vertx;
    @Inject
    ProxyStats stats;

    private MultiGauge serverUp;
    /** The backends the gauge rows were registered for; rows are rebuilt only when they change. */
    private Object registeredFor;

    void start(@Observes StartupEvent event) {
        Gauge.builder("weldr.raft.is.leader", leadership, l -> l.isLeader() ? 1 : 0)
                .description("1 when this node is the Raft leader").register(registry);
        Gauge.builder("weldr.raft.term", leadership, Leadership::term)
                .description("The current Raft term as this node knows it").register(registry);
        serverUp = MultiGauge.builder("weldr.server.up")
                .description("1 when this node sees the server as active, 0 when down or draining")
                .register(registry);
        refresh();
        // The set of servers changes at run time; a MultiGauge is re-registered from the table.
        vertx.setPeriodic(1000, id -> refresh());
    }

    private void refresh() {
        Object current = backends.generation();
        if (current == registeredFor) {
            // Same servers: each row's function reads the server's state live, nothing to redo.
            return;
        }
        registeredFor = current;
        List<Backend> all = backends.all();
        List<MultiGauge.Row<?>> rows = all.stream()
                .<MultiGauge.Row<?>>map(b -> MultiGauge.Row.of(Tags.of("pool", b.pool(), "server", b.id()), b, x -> x.routable() ? 1 : 0))
                .toList();
        // Overwriting drops the rows of servers that left; their request counters go too.
        serverUp.register(rows, true);
        stats.forgetServersExcept(all.stream().map(Backend::id).collect(Collectors.toSet()));
    }
}
