package dev.weldr.proxy.lb;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Plain rotation over the candidates, ignoring weights (weldr's default policy).
 *
 * <p>Each event loop keeps its own balancer; if they all started at the first server, the
 * first request of every loop would land on it together after each rebuild. {@link #create}
 * therefore starts at a random position, and the constructor takes one for tests.
 *
 * <p>A pick excluding a server moves on to the next one; it returns null only when the
 * excluded server is the only candidate.
 */
public final class RoundRobin<E extends Endpoint> implements LoadBalancer<E> {

    private final Object[] servers;
    private int next;

    /** Starts at {@code start} (taken modulo the number of candidates, so any int will do). */
    public RoundRobin(List<E> candidates, int start) {
        this.servers = candidates.toArray();
        this.next = servers.length == 0 ? 0 : Math.floorMod(start, servers.length);
    }

    /** A balancer starting at a random position. */
    public static <E extends Endpoint> RoundRobin<E> create(List<E> candidates) {
        return new RoundRobin<>(candidates, ThreadLocalRandom.current().nextInt(Math.max(1, candidates.size())));
    }

    @Override
    @SuppressWarnings("unchecked")
    public E pick(RequestKey request, E exclude) {
        int n = servers.length;
        for (int tried = 0; tried < n; tried++) {
            E e = (E) servers[next];
            next = next + 1 == n ? 0 : next + 1;
            if (!Endpoints.same(e, exclude)) {
                return e;
            }
        }
        return null;
    }
}
