package dev.weldr.cluster;

import dev.weldr.config.WeldrConfig;
import dev.weldr.raft.RaftNode;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.time.Duration;

/**
 * How long this node has known no Raft leader: the gauge {@code weldr_raft_leaderless_seconds},
 * and one line when that lasts {@value #ELECTION_TIMEOUTS} election timeouts (an election takes
 * one or two) and one when a leader is known again. A node without a leader still proxies and
 * stays live, and rightly so: restarting it would not bring back a quorum a cluster lost.
 */
@ApplicationScoped
public class LeaderlessWatch {

    private static final Logger LOG = Logger.getLogger(LeaderlessWatch.class);

    static final int ELECTION_TIMEOUTS = 10;

    @Inject
    WeldrConfig config;
    @Inject
    Leadership leadership;
    @Inject
    RaftNode raft;
    @Inject
    MeterRegistry registry;
    @Inject
    Vertx vertx;

    // Guarded by this: written on the Raft thread (leadership callbacks) and a Vert.x timer.
    private boolean leaderless;
    /** {@code System.nanoTime()} when this node lost its leader, or started without one. */
    private long since;
    /** Counts the spells without a leader, so that a timer set in one spell never reports another. */
    private long spell;
    private boolean reported;

    void start(@Observes StartupEvent event) {
        Gauge.builder("weldr.raft.leaderless", this, LeaderlessWatch::seconds)
                .baseUnit("seconds")
                .description("Seconds this node has known no Raft leader; 0 while it knows one")
                .register(registry);
        synchronized (this) {
            lost();
        }
        leadership.subscribe(this::changed);
        changed(leadership.state());
    }

    synchronized double seconds() {
        return leaderless ? (System.nanoTime() - since) / 1e9 : 0;
    }

    private synchronized void changed(Leadership.State state) {
        boolean none = state.leaderId() == null;
        if (none == leaderless) {
            return;
        }
        if (none) {
            lost();
            return;
        }
        leaderless = false;
        if (reported) {
            reported = false;
            LOG.infof("Raft leader %s known again after %.1f s without one", state.leaderId(),
                    (System.nanoTime() - since) / 1e9);
        }
    }

    private void lost() {
        leaderless = true;
        since = System.nanoTime();
        long current = ++spell;
        vertx.setTimer(threshold().toMillis(), id -> overdue(current));
    }

    private synchronized void overdue(long which) {
        if (leaderless && which == spell) {
            reported = true;
            LOG.warnf("no Raft leader known for %.1f s (%d election timeouts): writes get 503 and the pool stays as last applied"
                            + " until a majority of %s can reach each other; restarting this node does not bring a leader back",
                    threshold().toMillis() / 1e3, ELECTION_TIMEOUTS, raft.peers());
        }
    }

    private Duration threshold() {
        return config.raft().electionTimeout().multipliedBy(ELECTION_TIMEOUTS);
    }
}
