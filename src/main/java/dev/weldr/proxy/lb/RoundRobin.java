package dev.weldr.proxy.lb;

import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Weighted round-robin, weldr's default policy (also answering to {@code weighted-round-robin}):
 * earliest deadline first, as Envoy's EDF scheduler and HAProxy's {@code roundrobin} tree do.
 *
 * <p>Each server is due again every {@code 1 / weight} of a cycle; a pick takes the server whose
 * deadline is earliest and moves that deadline on by one step. Over any cycle of
 * {@code sum(weights)} picks each server gets exactly its weight, and a server's picks are evenly
 * spaced, so a heavy server is not sent its share in one burst. The deadlines are a binary heap:
 * a pick is O(log n) (14 levels for 10,000 servers), where nginx's smooth weighted round-robin
 * scans every server, and the balancer holds three arrays of n entries, whatever the weights (a
 * schedule laid out in advance would need {@code sum(weights)} entries: ten million for 10,000
 * servers of weight 1,000).
 *
 * <h2>Phases</h2>
 * If every server started due at the same moment, the light ones would all come together and
 * the heavy one would fill the rest of the cycle in a run. A server's first deadline is therefore
 * a fraction of its step taken from a golden-ratio sequence over the candidates, which spreads
 * them over the cycle; the sequence starts at a random point so that the event loops, each with
 * its own balancer, do not all send their first request after a rebuild to the same server.
 * With equal weights the heap would only give a fixed rotation, so {@link #create} returns a
 * {@link Rotation} instead, which costs a few nanoseconds a pick.
 *
 * <h2>Time</h2>
 * A cycle is {@value #CYCLE} ticks in a {@code long}, and deadlines are compared by the sign of
 * their difference, as TCP compares sequence numbers: every deadline in the heap lies within one
 * cycle of the earliest, so the order stays right when the counter wraps, and no rebasing is
 * needed however long the balancer lives. A step is the cycle divided by the weight, rounded
 * down, which moves a server's share by less than one part in a billion.
 *
 * <p>Weights are read when the balancer is built; a weight change is a rebuild. A pick excluding
 * the earliest server takes the next earliest (always a child of the heap's root) and leaves the
 * excluded one due, as nginx skips the peers a request has tried. It returns null only when the
 * excluded server is the only candidate. The balancer belongs to one event loop and needs no
 * synchronisation.
 */
public final class RoundRobin<E extends Endpoint> implements LoadBalancer<E> {

    static final long CYCLE = 1L << 40;

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private final Object[] servers;
    private final long[] step;
    private final long[] deadline;
    /** Server indexes, a binary min-heap on (deadline, index). */
    private final int[] heap;
    /** Deadline comparisons made so far: lets a test hold picks to O(log n) without timing them. */
    long comparisons;

    /** @param random where the phases start; a seeded one makes a test repeatable */
    public RoundRobin(List<E> candidates, RandomGenerator random) {
        this.servers = candidates.toArray();
        int n = servers.length;
        this.step = new long[n];
        this.deadline = new long[n];
        this.heap = new int[n];
        long phase = random.nextLong();
        for (int i = 0; i < n; i++, phase += GOLDEN_GAMMA) {
            step[i] = CYCLE / Endpoints.weight((Endpoint) servers[i]);
            deadline[i] = (long) ((phase >>> 11) * 0x1.0p-53 * step[i]);
            heap[i] = i;
        }
        for (int p = n / 2 - 1; p >= 0; p--) {
            siftDown(p);
        }
    }

    /**
     * The balancer for these candidates, its phases (or with equal weights its rotation) starting
     * at a random point.
     */
    public static <E extends Endpoint> LoadBalancer<E> create(List<E> candidates) {
        SplittableRandom random = new SplittableRandom();
        for (E e : candidates) {
            if (Endpoints.weight(e) != Endpoints.weight(candidates.get(0))) {
                return new RoundRobin<>(candidates, random);
            }
        }
        return new Rotation<>(candidates, random.nextInt(Math.max(1, candidates.size())));
    }

    @Override
    @SuppressWarnings("unchecked")
    public E pick(RequestKey request, E exclude) {
        int n = heap.length;
        if (n == 0) {
            return null;
        }
        int at = 0;
        if (Endpoints.same((Endpoint) servers[heap[0]], exclude)) {
            if (n == 1) {
                return null;
            }
            at = n == 2 || earlier(heap[1], heap[2]) ? 1 : 2;
        }
        int s = heap[at];
        deadline[s] += step[s];
        siftDown(at);
        return (E) servers[s];
    }

    /** Moves the entry at {@code at} down until no child is due before it. */
    private void siftDown(int at) {
        int n = heap.length;
        int s = heap[at];
        for (int child = 2 * at + 1; child < n; child = 2 * at + 1) {
            if (child + 1 < n && earlier(heap[child + 1], heap[child])) {
                child++;
            }
            if (!earlier(heap[child], s)) {
                break;
            }
            heap[at] = heap[child];
            at = child;
        }
        heap[at] = s;
    }

    /** Whether server a is due before server b; the lower index first on a tie. */
    private boolean earlier(int a, int b) {
        comparisons++;
        long d = deadline[a] - deadline[b];
        return d < 0 || (d == 0 && a < b);
    }
}
