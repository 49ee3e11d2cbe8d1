package dev.weldr.proxy;

import dev.weldr.pool.Hsts;
import dev.weldr.pool.Route;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The routes, indexed so that a request finds its route from the bytes of its head, without a
 * string and without looking at routes that cannot match: a hash table from host to that host's
 * routes, and per host (and for the routes of any host) a radix trie of path prefixes walked
 * along the request's path once. The rule is {@link Route}'s: the longest matching prefix among
 * the routes of the request's host and of any host; on equal prefixes the route naming the host;
 * on the same host and prefix, the first route. Built off the event loops when routes change.
 */
final class RouteIndex {

    private static final byte[] SLASH = {'/'};

    /**
     * What a lookup answers, by slot: a pool and what the route does besides (routes that agree
     * on all of it share a slot).
     */
    final List<Slot> slots;
    /** The tries of the routes naming a host, in an open-addressing table keyed by the host's bytes. */
    private final byte[][] hosts;
    private final Node[] hostTries;
    private final int mask;
    /** The routes of any host; null when there are none. */
    private final Node anyHost;

    /** A route's pool and options: what requests matching it get. */
    record Slot(String pool, boolean httpsRedirect, Hsts hsts) {
    }

    private RouteIndex(List<Slot> slots, byte[][] hosts, Node[] hostTries, Node anyHost) {
        this.slots = slots;
        this.hosts = hosts;
        this.hostTries = hostTries;
        this.mask = hosts.length - 1;
        this.anyHost = anyHost;
    }

    static RouteIndex of(List<Route> routes) {
        Map<Slot, Integer> slots = new LinkedHashMap<>();
        Map<String, Node> byHost = new LinkedHashMap<>();
        Node any = null;
        for (Route r : routes) {
            byte[] prefix = latin1(r.pathPrefix());
            byte[] host = latin1(r.host());
            if (prefix == null || host == null || r.pathPrefix().indexOf('?') >= 0 || r.pathPrefix().indexOf('#') >= 0) {
                // A request's path is Latin-1 bytes without query or fragment: this route matches none.
                continue;
            }
            int slot = slots.computeIfAbsent(new Slot(r.pool(), r.httpsRedirect(), r.hsts()), p -> slots.size());
            Node trie;
            if (host.length == 0) {
                trie = any == null ? any = new Node(new byte[0]) : any;
            } else {
                trie = byHost.computeIfAbsent(r.host(), h -> new Node(new byte[0]));
            }
            trie.insert(prefix, slot);
        }
        int size = Integer.highestOneBit(Math.max(1, byHost.size()) * 2 - 1) * 2;
        byte[][] hosts = new byte[size][];
        Node[] tries = new Node[size];
        for (Map.Entry<String, Node> e : byHost.entrySet()) {
            byte[] host = latin1(e.getKey());
            int i = hash(host, 0, host.length) & (size - 1);
            while (hosts[i] != null) {
                i = (i + 1) & (size - 1);
            }
            hosts[i] = host;
            tries[i] = e.getValue();
        }
        return new RouteIndex(List.copyOf(slots.keySet()), hosts, tries, any);
    }

    /** The slot of this request's route; -1 when no route matches (the default pool). */
    int find(Request h) {
        byte[] b;
        int s;
        int e;
        if (h.targetNeedsSlash()) {
            // An absolute form without a path ("http://a.test?q"): its path is "/".
            b = SLASH;
            s = 0;
            e = 1;
        } else {
            b = h.bytes();
            s = h.targetStart();
            e = h.targetEnd();
        }
        Node trie = hostTrie(h.bytes(), h.routeHostStart(), h.routeHostEnd());
        // Length of the match << 32 | slot, or -1; on equal lengths the host's route wins.
        long host = trie == null ? -1 : trie.longest(b, s, e);
        long any = anyHost == null ? -1 : anyHost.longest(b, s, e);
        long best = host >= 0 && (any < 0 || host >>> 32 >= any >>> 32) ? host : any;
        return best < 0 ? -1 : (int) best;
    }

    private Node hostTrie(byte[] b, int s, int e) {
        if (e <= s) {
            return null;
        }
        int i = hash(b, s, e) & mask;
        byte[] candidate;
        while ((candidate = hosts[i]) != null) {
            if (sameHost(candidate, b, s, e)) {
                return hostTries[i];
            }
            i = (i + 1) & mask;
        }
        return null;
    }

    /** A hash of the bytes, ASCII letters folded to lower case (route hosts are lower case). */
    private static int hash(byte[] b, int s, int e) {
        int h = 0;
        for (int k = s; k < e; k++) {
            h = 31 * h + HopByHop.fold(b[k] & 0xff);
        }
        return h ^ h >>> 16;
    }

    private static boolean sameHost(byte[] lower, byte[] b, int s, int e) {
        if (lower.length != e - s) {
            return false;
        }
        for (int k = 0; k < lower.length; k++) {
            if (lower[k] != (byte) HopByHop.fold(b[s + k] & 0xff)) {
                return false;
            }
        }
        return true;
    }

    /** The string's Latin-1 bytes, or null when it has a character beyond (no request byte matches it). */
    private static byte[] latin1(String text) {
        for (int k = 0; k < text.length(); k++) {
            if (text.charAt(k) > 0xff) {
                return null;
            }
        }
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A node of a radix trie of path prefixes: the bytes from its parent, and the route ending here. */
    private static final class Node {
        private static final Node[] NO_KIDS = {};
        private static final byte[] NONE = {};

        byte[] label;
        /** The slot of the first route whose prefix ends here; -1 when none. */
        int slot = -1;
        /** The children, by the first byte of their label. */
        byte[] firsts = NONE;
        Node[] kids = NO_KIDS;

        Node(byte[] label) {
            this.label = label;
        }

        void insert(byte[] key, int newSlot) {
            Node n = this;
            int i = 0;
            while (i < key.length) {
                int k = n.child(key[i]);
                if (k < 0) {
                    Node leaf = new Node(Arrays.copyOfRange(key, i, key.length));
                    leaf.slot = newSlot;
                    n.add(leaf);
                    return;
                }
                Node c = n.kids[k];
                int m = 0;
                while (m < c.label.length && i + m < key.length && c.label[m] == key[i + m]) {
                    m++;
                }
                if (m < c.label.length) {
                    // The key parts from this child's label within it: split the label there.
                    Node mid = new Node(Arrays.copyOfRange(c.label, 0, m));
                    c.label = Arrays.copyOfRange(c.label, m, c.label.length);
                    mid.add(c);
                    n.kids[k] = mid;
                    c = mid;
                }
                n = c;
                i += m;
            }
            if (n.slot < 0) {
                n.slot = newSlot;
            }
        }

        /** The longest prefix here that starts bytes {@code s} to {@code e}: its length << 32 | its slot, or -1. */
        long longest(byte[] b, int s, int e) {
            long best = slot >= 0 ? slot : -1;
            Node n = this;
            int i = s;
            while (i < e) {
                int k = n.child(b[i]);
                if (k < 0) {
                    break;
                }
                Node c = n.kids[k];
                byte[] l = c.label;
                if (e - i < l.length || !Arrays.equals(l, 0, l.length, b, i, i + l.length)) {
                    break;
                }
                i += l.length;
                n = c;
                if (n.slot >= 0) {
                    best = (long) (i - s) << 32 | n.slot;
                }
            }
            return best;
        }

        private int child(byte first) {
            byte[] f = firsts;
            for (int k = 0; k < f.length; k++) {
                if (f[k] == first) {
                    return k;
                }
            }
            return -1;
        }

        private void add(Node kid) {
            int n = firsts.length;
            firsts = Arrays.copyOf(firsts, n + 1);
            kids = Arrays.copyOf(kids, n + 1);
            firsts[n] = kid.label[0];
            kids[n] = kid;
        }
    }
}
