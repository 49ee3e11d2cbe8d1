package dev.weldr.tls;

import dev.weldr.cluster.Leadership;
import dev.weldr.cluster.PoolHolder;
import dev.weldr.cluster.PoolService;
import dev.weldr.config.WeldrConfig;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.TicketKey;
import dev.weldr.pool.Topology;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.arc.ClientProxy;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The leader's side of the cluster's session-ticket keys: when the newest replicated key is
 * {@code weldr.tls.ticket-key-rotation} old, or there is none, it makes a new one and commits it
 * through Raft. Only once a certificate is stored: a cluster that serves no HTTPS writes no
 * entry every hour, and nodes of a version that cannot read the entry keep working there. The schedule lives in the replicated state (each key's creation time), so a new
 * leader or a restarted node carries it on instead of rotating on every election.
 */
@ApplicationScoped
public class TicketKeyRotation {

    private static final Logger LOG = Logger.getLogger(TicketKeyRotation.class);

    @Inject
    PoolService pool;
    @Inject
    PoolHolder holder;
    @Inject
    Leadership leadership;
    @Inject
    CertificateStore certificates;
    @Inject
    WeldrConfig config;
    @Inject
    MeterRegistry registry;

    private long rotationMs;
    private ScheduledExecutorService timer;
    /** Set while a new key is on its way through Raft, so that a slow commit does not bring a second one. */
    private volatile boolean proposing;

    void start(@Observes @Priority(60) StartupEvent event) {
        rotationMs = config.tls().ticketKeyRotation().toMillis();
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "weldr-ticket-keys");
            t.setDaemon(true);
            return t;
        });
        // A key is at most a tenth of a period late, and the check costs nothing when the key is young.
        long every = Math.max(100, Math.min(rotationMs / 10, 60_000));
        timer.scheduleWithFixedDelay(this::check, 0, every, TimeUnit.MILLISECONDS);
        leadership.subscribe(state -> {
            if (state.role() == Leadership.Role.LEADER) {
                soon();
            }
        });
        // The first certificate brings the first key at once, not at the next check.
        holder.subscribe(topology -> {
            if (leadership.isLeader() && !topology.certificates().isEmpty() && topology.ticketKeys().isEmpty()) {
                soon();
            }
        });
        CertificateStore store = ClientProxy.unwrap(certificates);
        Gauge.builder("weldr.tls.ticket.keys", store, CertificateStore::ticketKeysInUse)
                .description("Session-ticket keys of the cluster this node's TLS contexts use (0 under the JDK's TLS)")
                .register(registry);
        Gauge.builder("weldr.tls.ticket.key.created.seconds", holder, TicketKeyRotation::newestCreated)
                .description("When the session-ticket key that encrypts new tickets was made (Unix time)")
                .register(registry);
    }

    void stop(@Observes @Priority(5) ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /** Called on the Raft thread, which must not fail because this node is stopping. */
    private void soon() {
        try {
            timer.execute(this::check);
        } catch (RejectedExecutionException stopping) {
            // No key to make on a node that is stopping.
        }
    }

    private static double newestCreated(PoolHolder holder) {
        List<TicketKey> keys = holder.current().ticketKeys();
        return keys.isEmpty() ? Double.NaN : keys.get(0).created() / 1000.0;
    }

    /** Whether the newest key is not yet due for rotation. The applied state lags the leader's, never leads it. */
    private boolean young(List<TicketKey> keys) {
        return !keys.isEmpty() && System.currentTimeMillis() - keys.get(0).created() < rotationMs;
    }

    /** A throw out of here would end the schedule for good: a failed try waits for the next one instead. */
    private void check() {
        try {
            propose();
        } catch (RuntimeException e) {
            proposing = false;
            LOG.debugf("no new session-ticket key this time: %s", e.getMessage());
        }
    }

    private void propose() {
        Topology applied = holder.current();
        if (!leadership.isLeader() || proposing || applied.certificates().isEmpty() || young(applied.ticketKeys())) {
            return;
        }
        proposing = true;
        // A consistent read: a leader just elected may not have applied its predecessor's last key yet.
        pool.consistent().thenCompose(topology -> {
            List<TicketKey> keys = topology.ticketKeys();
            if (young(keys)) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            long now = System.currentTimeMillis();
            return pool.submit(new PoolCommand.AddTicketKey(certificates.newTicketKey(now))).thenAccept(o ->
                    LOG.infof("new session-ticket key for the cluster (%s; weldr.tls.ticket-key-rotation=%d s)",
                            keys.isEmpty() ? "the first" : "the previous one is " + (now - keys.get(0).created()) / 1000 + " s old",
                            rotationMs / 1000));
        }).whenComplete((v, e) -> {
            proposing = false;
            if (e != null) {
                LOG.debugf("no new session-ticket key this time: %s", e.getMessage());
            }
        });
    }
}
