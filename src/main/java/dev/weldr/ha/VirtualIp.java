package dev.weldr.ha;

import org.jboss.logging.Logger;

import java.util.List;
import java.util.Map;

/**
 * The virtual IP, keepalived-style: the leader adds the address to an interface and announces it
 * with gratuitous ARP (and repeats the announcement, so that clients that missed it, e.g. across a
 * healed partition, find the new owner); any other node removes it. Uses {@code ip} (iproute2) and
 * {@code arping} (iputils-arping) from the PATH.
 */
final class VirtualIp {

    private static final Logger LOG = Logger.getLogger(VirtualIp.class);
    private static final long TIMEOUT_MS = 5000;

    private final String cidr;
    private final String address;
    private final String iface;
    private boolean held;
    private volatile Process announcing;

    VirtualIp(String cidr, String iface) {
        this.cidr = cidr.contains("/") ? cidr : cidr + "/32";
        this.address = this.cidr.substring(0, this.cidr.indexOf('/'));
        this.iface = iface;
    }

    void take() {
        // "ip addr add" fails when the address is already there (a restart): that is fine, announce anyway.
        Commands.run(List.of("ip", "addr", "add", cidr, "dev", iface), Map.of(), TIMEOUT_MS);
        held = true;
        announce();
        LOG.infof("virtual IP %s taken on %s", cidr, iface);
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
     * of this node that was killed (SIGKILL, OOM killer, power cut of the process only) left it on
     * the interface. Until then the host would still answer ARP for the VIP while another node
     * holds it, and a node that never hears from a leader would keep it for good.
     */
    void clearLeftover() {
        if (Commands.runQuietly(List.of("ip", "addr", "del", cidr, "dev", iface), TIMEOUT_MS) == 0) {
            LOG.warnf("virtual IP %s was left on %s by an earlier process; removed", cidr, iface);
        }
    }

    void release() {
        // No announcement of an address this node is giving up.
        stopAnnouncing();
        if (Commands.run(List.of("ip", "addr", "del", cidr, "dev", iface), Map.of(), TIMEOUT_MS) == 0 || held) {
            LOG.infof("virtual IP %s released from %s", cidr, iface);
        }
        held = false;
    }

    boolean held() {
        return held;
    }
}
