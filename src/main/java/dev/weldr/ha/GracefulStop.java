package dev.weldr.ha;

import com.alipay.sofa.jraft.entity.PeerId;
import dev.weldr.cluster.Leadership;
import dev.weldr.config.WeldrConfig;
import dev.weldr.raft.RaftNode;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * SIGTERM on the leader of a cluster: hand leadership to the most up-to-date follower first,
 * then keep proxying for {@code weldr.ha.stop-drain} while the VIP moves and clients follow it,
 * and only then let the proxy and Raft stop. Runs before every other shutdown step.
 */
@ApplicationScoped
public class GracefulStop {

    private static final Logger LOG = Logger.getLogger(GracefulStop.class);

    @Inject
    RaftNode raft;
    @Inject
    Leadership leadership;
    @Inject
    WeldrConfig config;

    void stop(@Observes @Priority(1) ShutdownEvent event) {
        if (!leadership.isLeader() || raft.peers().size() < 2) {
            return;
        }
        long started = System.nanoTime();
        var status = raft.transferLeadership(PeerId.ANY_PEER);
        if (!status.isOk()) {
            LOG.warnf("stopping as leader without handing over: %s", status.getErrorMsg());
            return;
        }
        long deadline = started + config.raft().electionTimeout().multipliedBy(2).toNanos();
        while (System.nanoTime() < deadline && (leadership.isLeader() || leadership.leaderId() == null)) {
            sleep(10);
        }
        LOG.infof("leadership handed to %s in %d ms; draining for %d ms", leadership.leaderId(),
                (System.nanoTime() - started) / 1_000_000, config.ha().stopDrain().toMillis());
        sleep(config.ha().stopDrain().toMillis());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
