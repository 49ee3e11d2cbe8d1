package dev.weldr.events;

import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;

/**
 * What this node saw happen, newest {@link #CAPACITY} kept: a server turning down or back up under
 * its active checks, a passive ejection and the re-admission that ends it, a new leader or none,
 * the virtual IP taken or released here. Observed state, like health itself: never replicated, and
 * gone with the process. Recorded where the state changes (already under a lock and logged), never
 * per request, so a fixed array and one lock suffice.
 */
@ApplicationScoped
public class EventLog {

    /** Enough for the dashboard's view and a few flapping servers' history: about 100 KB at some 200 bytes an event. */
    public static final int CAPACITY = 500;

    public enum Kind {
        /** Active checks turned a server down. */
        DOWN("down"),
        /** Active checks brought a server back. */
        UP("up"),
        /** Passive checks took a server out of rotation until a time. */
        EJECTED("ejected"),
        /** An ejected server is back in rotation. */
        READMITTED("readmitted"),
        /** A leader is known where another (or none) was, or the term changed. */
        LEADER("leader"),
        /** This node lost its leader: an election is under way, or no quorum. */
        NO_LEADER("no-leader"),
        VIP_TAKEN("vip-taken"),
        VIP_RELEASED("vip-released");

        private final String wire;

        Kind(String wire) {
            this.wire = wire;
        }

        /** The name the admin API gives. */
        public String wire() {
            return wire;
        }
    }

    /**
     * One event: {@code id} increases by one per event since start (so a reader sees what it missed),
     * {@code pool} and {@code server} name a server's events, {@code node} a cluster event's node
     * (the new leader, or this node for the VIP), {@code untilMillis} an ejection's end (epoch ms, 0
     * for other kinds).
     */
    public record Event(long id, long timeMillis, Kind kind, String pool, String server, String node, String detail,
                        long untilMillis) {
    }

    private final Event[] ring = new Event[CAPACITY];
    /** The id the next event gets; also how many were recorded. Guarded by ring. */
    private long next;

    /** A server's event, seen now. */
    public void server(Kind kind, String pool, String server, String detail, long untilMillis) {
        add(kind, pool, server, null, detail, untilMillis);
    }

    /** A cluster event about {@code node}, seen now. */
    public void node(Kind kind, String node, String detail) {
        add(kind, null, null, node, detail, 0);
    }

    private void add(Kind kind, String pool, String server, String node, String detail, long untilMillis) {
        long now = System.currentTimeMillis();
        synchronized (ring) {
            ring[(int) (next % CAPACITY)] = new Event(next, now, kind, pool, server, node, detail, untilMillis);
            next++;
        }
    }

    /** Up to {@code limit} events, newest first. */
    public List<Event> newest(int limit) {
        synchronized (ring) {
            int n = (int) Math.min(Math.min(limit, next), CAPACITY);
            List<Event> list = new ArrayList<>(n);
            for (long id = next - 1; list.size() < n; id--) {
                list.add(ring[(int) (id % CAPACITY)]);
            }
            return list;
        }
    }
}
