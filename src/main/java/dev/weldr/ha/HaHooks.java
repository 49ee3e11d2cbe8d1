package dev.weldr.ha;

import dev.weldr.cluster.Leadership;
import dev.weldr.config.WeldrConfig;
import dev.weldr.raft.RaftNode;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * What a change of role does outside weldr: the virtual IP and the operator's
 * {@code weldr.ha.on-leader} / {@code on-follower} commands. Leadership events arrive on the Raft
 * thread and are handed to one thread of this class's own, in order, so that a slow command never
 * holds up Raft and two transitions never run at once.
 */
@ApplicationScoped
public class HaHooks {

    private static final Logger LOG = Logger.getLogger(HaHooks.class);
    private static final long HOOK_TIMEOUT_MS = 30_000;

    @Inject
    WeldrConfig config;
    @Inject
    Leadership leadership;
    @Inject
    RaftNode raft;

    private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "weldr-ha");
        t.setDaemon(true);
        return t;
    });
    private VirtualIp vip;
    private ScheduledFuture<?> refresh;
    private Leadership.Role announced;

    void start(@Observes @Priority(8) StartupEvent event) {
        vip = config.vip().address().filter(a -> !a.isBlank()).map(a -> new VirtualIp(a, config.vip().iface())).orElse(null);
        if (vip != null) {
            // Before Raft starts (priority 10): this node holds no VIP until it is elected.
            vip.clearLeftover();
        }
        leadership.subscribe(state -> worker.execute(() -> onChange(state)));
    }

    /** Releases the VIP after Raft stopped (which ends leadership), before the process exits. */
    void stop(@Observes @Priority(200) ShutdownEvent event) {
        worker.execute(() -> {
            if (vip != null && vip.held()) {
                vip.release();
            }
        });
        worker.shutdown();
        try {
            worker.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void onChange(Leadership.State state) {
        Leadership.Role role = state.role() == Leadership.Role.LEADER ? Leadership.Role.LEADER : Leadership.Role.FOLLOWER;
        // A candidate has no leader to follow yet; it is announced as a follower once it has one,
        // or at once if it was the leader (it must give up the VIP now).
        if (state.role() == Leadership.Role.CANDIDATE && announced != Leadership.Role.LEADER) {
            return;
        }
        if (role == announced) {
            return;
        }
        announced = role;
        if (role == Leadership.Role.LEADER) {
            if (vip != null) {
                vip.take();
                refresh = worker.scheduleWithFixedDelay(vip::announce, config.vip().refresh().toMillis(),
                        config.vip().refresh().toMillis(), TimeUnit.MILLISECONDS);
            }
            config.ha().onLeader().filter(c -> !c.isBlank()).ifPresent(c -> hook(c, state, "leader"));
        } else {
            if (refresh != null) {
                refresh.cancel(false);
                refresh = null;
            }
            if (vip != null) {
                vip.release();
            }
            config.ha().onFollower().filter(c -> !c.isBlank()).ifPresent(c -> hook(c, state, "follower"));
        }
    }

    private void hook(String command, Leadership.State state, String role) {
        Map<String, String> env = Map.of(
                "WELDR_ROLE", role,
                "WELDR_SELF", String.valueOf(raft.selfId()),
                "WELDR_LEADER", state.leaderId() == null ? "" : state.leaderId(),
                "WELDR_TERM", Long.toString(state.term()),
                "WELDR_VIP", config.vip().address().orElse(""));
        LOG.infof("running the on-%s command", role);
        Commands.shell(command, env, HOOK_TIMEOUT_MS);
    }
}
