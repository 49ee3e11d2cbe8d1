package dev.weldr.proxy.lb;

import java.util.List;

/**
 * {@link RoundRobin} when every candidate has the same weight: plain rotation, O(1) and a few
 * nanoseconds a pick, where the deadline heap would cost a sift for the same order of picks.
 * Equal weights are the common case (every server starts at weight 1).
 *
 * <p>Each event loop keeps its own balancer; if they all started at the first server, the
 * first request of every loop would land on it together after each rebuild. {@link RoundRobin#create}
 * therefore starts at a random position, and the constructor takes one for tests.
 *
 * <p>A pick excluding a server moves on to the next one; it returns null only when the
 * excluded server is the only candidate.
 */
final class Rotation<E extends Endpoint> implements LoadBalancer<E> {

    private final Object[] servers;
    private int next;

    /** Starts at {@code start} (taken modulo the number of candidates, so any int will do). */
    Rotation(List<E> candidates, int start) {
        this.servers = candidates.toArray();
        this.next = servers.length == 0 ? 0 : Math.floorMod(start, servers.length);
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
