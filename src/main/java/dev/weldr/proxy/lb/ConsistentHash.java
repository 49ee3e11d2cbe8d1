package dev.weldr.proxy.lb;

import dev.weldr.pool.LbPolicy.HashOn;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Consistent hashing on a ring (Envoy's ring_hash, ketama): each server is placed on a 64-bit
 * ring at {@value #VNODES_PER_WEIGHT} points per unit of weight, and a request goes to the
 * server owning the first point at or after its key's hash, wrapping around.
 *
 * <h2>Why a ring and not Maglev</h2>
 * A server's points depend only on its own id and weight, so adding a server takes keys only
 * for itself and removing one moves only the keys it had: the least remapping there can be,
 * which is what sticky sessions need. Maglev's lookup is O(1), but a change of the pool also
 * moves some keys between servers that stayed, and it has no natural "next server" for a
 * retry. The ring's lookup is a binary search, O(log points): about 16 steps for 100 servers.
 *
 * <h2>Points</h2>
 * A server's id ({@code host:port}) is hashed with XXH64; its points are the SplitMix64
 * sequence seeded with that hash, so a server of weight w has the first {@code 512 w} of them
 * and a weight change adds or removes points of that server only. Placement depends on
 * nothing but ids and weights, not on the order of the candidates nor on the node, so every
 * weldr node sends a key to the same server.
 *
 * <p>Why 512 and not ketama's 160: a server's share of the ring strays from its weight's share
 * by about {@code 1/sqrt(points)}. With 160 points per unit, one pair of servers in eight
 * weighted 2:1 gets a ratio more than 15 % off; with 512 about one in fifty does. A point is
 * 8 bytes, so a pool of 100 servers of weight 1 holds a 400 KiB ring.
 *
 * <p>The ring is bounded to {@value #MAX_POINTS} points (16 MiB): past a total weight of
 * {@code MAX_POINTS / 512} every server gets proportionally fewer (at least one). Points per
 * server then follow the total weight, so a change of the pool by a fraction f of the total
 * weight also moves up to about f more keys than its own.
 *
 * <h2>Keys</h2>
 * The key is the value of the named header (first value) or cookie, or the client address.
 * When the request has no such header or cookie, or it is empty, the key falls back to the
 * client address, so a client without a session cookie still sticks by address.
 *
 * <h2>Retries</h2>
 * A pick excluding a server walks the ring on from the key's point to the first point of
 * another server: the same key's second choice is stable too. It returns null only when the
 * excluded server is the only candidate.
 *
 * <p>The balancer keeps no state between picks: the event loops may share one instance rather
 * than each build and hold a ring of its own.
 */
public final class ConsistentHash<E extends Endpoint> implements LoadBalancer<E> {

    /** Ring points per unit of weight. */
    public static final int VNODES_PER_WEIGHT = 512;

    /** The most points a ring holds (8 bytes each). */
    public static final int MAX_POINTS = 1 << 21;

    // A point is its position with the low bits replaced by the owning server's index, so the
    // ring is one sorted long[]: half the memory of positions plus owners, and sorted as
    // plain longs. 40 bits of position leave collisions negligible (a full ring has a couple
    // of pairs sharing a position, and a key falls between such a pair with probability 2^-40).
    private static final int INDEX_BITS = 24;
    private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private final Object[] servers;
    private final long[] ring;
    private final HashOn hashOn;
    private final String hashName;

    /**
     * @param hashOn   where the key comes from
     * @param hashName the header or cookie name; ignored for {@link HashOn#CLIENT_ADDRESS}
     */
    public ConsistentHash(List<E> candidates, HashOn hashOn, String hashName) {
        this.hashOn = Objects.requireNonNull(hashOn, "hashOn");
        if (hashOn != HashOn.CLIENT_ADDRESS) {
            Objects.requireNonNull(hashName, "hashName");
        }
        this.hashName = hashName;
        this.servers = candidates.toArray();
        if (servers.length > INDEX_MASK + 1) {
            throw new IllegalArgumentException("too many servers for a ring: " + servers.length);
        }
        this.ring = build(servers);
    }

    private static long[] build(Object[] servers) {
        long totalWeight = 0;
        for (Object s : servers) {
            totalWeight += Endpoints.weight((Endpoint) s);
        }
        double perWeight = Math.min(VNODES_PER_WEIGHT, (double) MAX_POINTS / Math.max(1, totalWeight));
        int[] counts = new int[servers.length];
        long[] seeds = new long[servers.length];
        int size = 0;
        for (int i = 0; i < servers.length; i++) {
            int w = Endpoints.weight((Endpoint) servers[i]);
            counts[i] = perWeight == VNODES_PER_WEIGHT ? w * VNODES_PER_WEIGHT : Math.max(1, (int) (w * perWeight));
            seeds[i] = XxHash64.hash(((Endpoint) servers[i]).id());
            size += counts[i];
        }
        // Points are uniform, so one counting pass on their top bits spreads them over buckets
        // of a few points each, and sorting those is linear in practice: a 10,000-server ring
        // builds several times faster than with one sort of the whole. Points are computed
        // twice (count, then place), which is cheaper than a second array of them.
        int bits = Math.max(1, Math.min(16, 30 - Integer.numberOfLeadingZeros(size)));
        int[] next = new int[(1 << bits) + 1];
        for (int i = 0; i < servers.length; i++) {
            for (int k = 1; k <= counts[i]; k++) {
                next[bucket(point(seeds[i], k, i), bits) + 1]++;
            }
        }
        for (int b = 1; b < next.length; b++) {
            next[b] += next[b - 1];
        }
        long[] ring = new long[size];
        for (int i = 0; i < servers.length; i++) {
            for (int k = 1; k <= counts[i]; k++) {
                long p = point(seeds[i], k, i);
                ring[next[bucket(p, bits)]++] = p;
            }
        }
        // Each next[b] has moved on to the end of bucket b.
        for (int b = 0, from = 0; b < next.length - 1; from = next[b++]) {
            if (next[b] - from > 1) {
                Arrays.sort(ring, from, next[b]);
            }
        }
        return ring;
    }

    /** The k-th point of server i: its position, with the low bits holding the index. */
    private static long point(long seed, int k, int i) {
        return (mix(seed + k * GOLDEN_GAMMA) & ~INDEX_MASK) | i;
    }

    /** The top bits of a point, in the signed order the ring is sorted in. */
    private static int bucket(long point, int bits) {
        return (int) ((point ^ Long.MIN_VALUE) >>> (64 - bits));
    }

    /** SplitMix64's finaliser: the k-th point of a server is mix(seed + k * gamma). */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    @SuppressWarnings("unchecked")
    public E pick(RequestKey request, E exclude) {
        int n = ring.length;
        if (n == 0) {
            return null;
        }
        if (servers.length == 1) {
            E only = (E) servers[0];
            return Endpoints.same(only, exclude) ? null : only;
        }
        int at = Arrays.binarySearch(ring, XxHash64.hash(key(request)) & ~INDEX_MASK);
        if (at < 0) {
            at = -at - 1;
        }
        for (int walked = 0; walked < n; walked++, at++) {
            if (at == n) {
                at = 0;
            }
            E e = (E) servers[(int) (ring[at] & INDEX_MASK)];
            if (!Endpoints.same(e, exclude)) {
                return e;
            }
        }
        return null;
    }

    /** The request's key: the header, cookie or address it hashes on, else the address. */
    private String key(RequestKey request) {
        String key = switch (hashOn) {
            case HEADER -> request.header(hashName);
            case COOKIE -> request.cookie(hashName);
            case CLIENT_ADDRESS -> null;
        };
        if (key == null || key.isEmpty()) {
            key = request.clientAddress();
        }
        return key == null ? "" : key;
    }
}
