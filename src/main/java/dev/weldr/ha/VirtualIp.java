package dev.weldr.ha;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;

/**
 * The virtual IP, keepalived-style: the leader adds the address to an interface and announces it
 * with gratuitous ARP (and repeats the announcement, so that clients that missed it, e.g. across a
 * healed partition, find the new owner); any other node removes it. Uses {@code ip} (iproute2) and
 * {@code arping} (iputils-arping) from the PATH. Used from one thread only (HaHooks' VIP thread).
 */
final class VirtualIp {

    private static final Logger LOG = Logger.getLogger(VirtualIp.class);
    private static final long TIMEOUT_MS = 5000;
    /** How often a take that failed is tried again while this node should hold the address. */
    private static final long RETRY_NANOS = 1_000_000_000L;
    /**
     * The guard: a shell that waits for a line on its stdin, a pipe from this JVM. A line means the
     * JVM released the address itself: it exits. End of file without one means the JVM is gone (the
     * kernel closes the pipe of a process killed with SIGKILL or by the OOM killer): it removes the
     * address. It ignores the signals that reach a whole process group or session (a terminal's
     * Ctrl-C or hang-up, a service manager's SIGTERM to every process of the service), so that it
     * outlives the JVM; with SIGPIPE ignored, a closed stderr cannot stop it before the removal.
     */
    private static final String GUARD = "trap '' HUP INT TERM PIPE; read -r line || { ip addr del \"$1\" dev \"$2\" && "
            + "echo \"weldr-vip-guard: weldr ended holding $1: removed it from $2\" >&2; }";

    private final String cidr;
    private final String address;
    private final String iface;
    /** Told each time this node comes to hold the address or stops holding it. */
    private final Listener listener;
    /** Written by the VIP thread; volatile for the admin API, which reports it. */
    private volatile boolean held;
    private Process guard;
    private volatile Process announcing;
    private long lastAttempt;
    private String failure;

    interface Listener {
        void changed(boolean held, String detail);
    }

    VirtualIp(String cidr, String iface, Listener listener) {
        this.cidr = cidr.contains("/") ? cidr : cidr + "/32";
        this.address = this.cidr.substring(0, this.cidr.indexOf('/'));
        this.iface = iface;
        this.listener = listener;
    }

    /**
     * Guards the address, adds it (an address already there counts: a release that failed), and
     * announces it. The guard comes first, so that no moment exists where the address is on the
     * interface and a kill would leave it there. A failure is logged once, not at every retry
     * ({@link #retry}).
     */
    void take() {
        lastAttempt = System.nanoTime();
        guard();
        Commands.Result r = Commands.run(List.of("ip", "addr", "add", cidr, "dev", iface), Map.of(), TIMEOUT_MS);
        if (!r.ok() && !alreadyThere(r)) {
            disarm();
            String why = r.describe();
            if (!why.equals(failure)) {
                LOG.errorf("virtual IP %s could not be taken on %s (ip addr add: %s); trying again every second", cidr, iface, why);
            }
            failure = why;
            return;
        }
        failure = null;
        boolean was = held;
        held = true;
        announce();
        LOG.infof("virtual IP %s taken on %s", cidr, iface);
        if (!was) {
            listener.changed(true, "virtual IP " + cidr + " taken on " + iface);
        }
    }

    /** Tries a failed take again, at most once a second. */
    void retry() {
        if (!held && System.nanoTime() - lastAttempt >= RETRY_NANOS) {
            take();
        }
    }

    private static boolean alreadyThere(Commands.Result r) {
        // iproute2's words for EEXIST, without and with the kernel's extended ack
        return r.exit() > 0 && (r.output().contains("File exists") || r.output().contains("already assigned"));
    }

    private void guard() {
        disarm();
        try {
            guard = new ProcessBuilder(List.of("/bin/sh", "-c", GUARD, "weldr-vip-guard", cidr, iface))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
        } catch (IOException e) {
            LOG.warnf("no guard for virtual IP %s (%s): it stays on %s if this process is killed", cidr, e.getMessage(), iface);
        }
    }

    /** Tells the guard the address is released: it exits without touching the interface. */
    private void disarm() {
        Process g = guard;
        guard = null;
        if (g == null) {
            return;
        }
        try (OutputStream out = g.getOutputStream()) {
            out.write('\n');
        } catch (IOException e) {
            // the guard is gone already: nothing left to tell it
        }
    }

    /**
     * Sends a gratuitous ARP. arping sends it at once and then waits a second for replies that an
     * unsolicited ARP never gets: it is not waited for, so that a loss of leadership in that
     * second is acted on (the address removed) at once rather than after it.
     */
    void announce() {
        if (held) {
            stopAnnouncing();
            announcing = Commands.launch(List.of("arping", "-U", "-c", "1", "-w", "1", "-I", iface, address));
        }
    }

    private void stopAnnouncing() {
        Process p = announcing;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
        }
        announcing = null;
    }

    /**
     * At start-up, before this node can take part in an election: removes the address if a process
     * of this node left it on the interface and its guard could not remove it (the guard killed
     * too: a service manager's SIGKILL to every process of the service, a power cut of the
     * container). Until then the host would still answer ARP for the VIP while another node holds
     * it, and a node that never hears from a leader would keep it for good.
     */
    void clearLeftover() {
        if (Commands.run(List.of("ip", "addr", "del", cidr, "dev", iface), Map.of(), TIMEOUT_MS).ok()) {
            LOG.warnf("virtual IP %s was left on %s by an earlier process; removed", cidr, iface);
        }
    }

    /**
     * Removes the address, then stands the guard down: in this order, a kill between the two
     * leaves the guard an address already gone, never an address left behind.
     */
    void release() {
        // No announcement of an address this node is giving up.
        stopAnnouncing();
        failure = null;
        Commands.Result r = Commands.run(List.of("ip", "addr", "del", cidr, "dev", iface), Map.of(), TIMEOUT_MS);
        if (r.ok()) {
            LOG.infof("virtual IP %s released from %s", cidr, iface);
            disarm();
        } else if (held) {
            // The guard stays armed: it removes the address when this process ends, if nothing did before.
            LOG.errorf("virtual IP %s could not be removed from %s (ip addr del: %s)", cidr, iface, r.describe());
        }
        if (held) {
            held = false;
            listener.changed(false, r.ok() ? "virtual IP " + cidr + " released from " + iface
                    : "virtual IP " + cidr + " given up, but could not be removed from " + iface + " (ip addr del: " + r.describe() + ")");
        }
    }

    String address() {
        return address;
    }

    boolean held() {
        return held;
    }
}
