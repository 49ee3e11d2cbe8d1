package dev.weldr.ha;

import dev.weldr.cluster.Leadership;
import dev.weldr.config.WeldrConfig;
import dev.weldr.events.EventLog;
import dev.weldr.raft.RaftNode;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * What a change of role does outside weldr: the virtual IP and the operator's
 * {@code weldr.ha.on-leader} / {@code on-follower} commands. Leadership events arrive on the Raft
 * thread and are handed to a thread of this class's own for the VIP (take, release, the lease
 * guard, the repeated announcement), which never waits for a hook: hooks run on a second thread,
 * one at a time and in order, so that a slow or stuck hook never holds up the VIP nor Raft.
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
    @Inject
    EventLog events;

    private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "weldr-vip");
        t.setDaemon(true);
        return t;
    });
    private final ExecutorService hooks = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "weldr-ha-hooks");
        t.setDaemon(true);
        return t;
    });
    private volatile VirtualIp vip;
    private ScheduledFuture<?> refresh;
    private Leadership.Role announced;
    private boolean leaseLost;
    private long ticks;

    /** The virtual IP's address, or null when none is configured. */
    public String vipAddress() {
        VirtualIp v = vip;
        return v == null ? null : v.address();
    }

    /** Whether this node has the virtual IP on its interface now. */
    public boolean holdsVip() {
        VirtualIp v = vip;
        return v != null && v.held();
    }

    void start(@Observes @Priority(8) StartupEvent event) {
        VirtualIp.Listener noted = (held, detail) -> events.node(held ? EventLog.Kind.VIP_TAKEN : EventLog.Kind.VIP_RELEASED,
                raft.selfId(), detail);
        vip = config.vip().address().filter(a -> !a.isBlank()).map(a -> new VirtualIp(a, config.vip().iface(), noted)).orElse(null);
        if (vip != null) {
            // Before Raft starts (priority 10): this node holds no VIP until it is elected.
            vip.clearLeftover();
        }
        leadership.subscribe(state -> worker.execute(() -> onChange(state)));
        if (vip != null) {
            long period = Math.max(10, config.raft().electionTimeout().toMillis() / 20);
            worker.scheduleWithFixedDelay(this::guardLease, period, period, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Releases the VIP after Raft stopped (which ends leadership), before the process exits. A hook
     * still running gets a few seconds, then is stopped.
     */
    void stop(@Observes @Priority(200) ShutdownEvent event) {
        worker.execute(() -> {
            if (vip != null && vip.held()) {
                vip.release();
            }
        });
        worker.shutdown();
        try {
            worker.awaitTermination(10, TimeUnit.SECONDS);
            // After the VIP thread, which may still be handing over a last change of role's hook.
            hooks.shutdown();
            if (!hooks.awaitTermination(5, TimeUnit.SECONDS)) {
                hooks.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How long a leader keeps the VIP without a fresh confirmation by a majority: 60 % of the election timeout. */
    private java.time.Duration lease() {
        return config.raft().electionTimeout().multipliedBy(6).dividedBy(10);
    }

    /**
     * The leader keeps the VIP only while it holds its lease ({@link RaftNode#leaseHeld}), renewed
     * every tenth of an election timeout. A leader cut off from the others learns that it is no
     * longer leader only when Raft steps it down (when no majority answered for 90 % of the
     * timeout, checked every half timeout: 0.9 to 1.4 timeouts after the cut), which is often after
     * the others elected a new leader (one timeout after they last heard from it, and a random
     * delay) and that leader took the VIP. The lease runs out, and the address goes, within 0.65
     * timeouts, before anyone else can be elected. It is taken back if a majority confirms this
     * node again while it still leads (a stall, not a partition). A take that failed is retried.
     */
    private void guardLease() {
        if (announced != Leadership.Role.LEADER || !raft.isLeader()) {
            return; // a change of role is on its way to onChange
        }
        if (++ticks % 2 == 0) {
            raft.renewLease();
        }
        boolean lease = raft.leaseHeld(lease());
        if (!lease && !leaseLost) {
            leaseLost = true;
            if (vip.held()) {
                vip.release();
                LOG.warnf("leadership not confirmed by a majority for %d ms: virtual IP given up while that lasts", lease().toMillis());
            }
        } else if (lease && leaseLost) {
            leaseLost = false;
            LOG.infof("leadership confirmed by a majority again");
            vip.take();
        } else if (lease) {
            vip.retry();
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
            raft.leaseStartsNow();
            leaseLost = false;
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
        hooks.execute(() -> {
            Commands.Result r = Commands.shell(command, env, HOOK_TIMEOUT_MS);
            if (r.exit() < 0) {
                return; // could not run, or stopped at its timeout: logged by Commands
            }
            String output = r.bytes() == 0 ? "" : String.format(" (%d bytes of output%s)", r.bytes(),
                    r.firstLine().isEmpty() ? "" : ", first line: " + r.firstLine());
            if (r.ok()) {
                LOG.infof("on-%s command exited with 0 in %d ms%s", role, r.millis(), output);
            } else {
                LOG.warnf("on-%s command exited with %d in %d ms%s", role, r.exit(), r.millis(), output);
            }
        });
    }
}
