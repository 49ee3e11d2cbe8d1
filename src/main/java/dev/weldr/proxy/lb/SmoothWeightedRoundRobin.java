package dev.weldr.proxy.lb;

import java.util.List;

/**
 * nginx's smooth weighted round-robin: on every pick each server's current weight grows by
 * its weight, the server with the largest current weight wins (the first one on a tie), and
 * the winner's current weight drops by the total. Over a cycle of {@code sum(weights)} picks
 * each server gets exactly its weight, and the picks are interleaved rather than bunched:
 * weights {5, 1, 1} give a, a, b, a, c, a, a.
 *
 * <p>Weights are read once, when the balancer is built: a weight change takes effect on the
 * rebuild that follows it, which also restarts the cycle. A pick is O(n), as in nginx; that is
 * cheap for pools of tens or hundreds of servers.
 *
 * <p>A pick excluding a server leaves it out of that round altogether (its current weight does
 * not grow and it does not count in the total), as nginx skips the peers a request has tried.
 * It returns null only when the excluded server is the only candidate.
 */
public final class SmoothWeightedRoundRobin<E extends Endpoint> implements LoadBalancer<E> {

    private final Object[] servers;
    private final int[] weights;
    // long: a current weight stays within [-total, total], and the total of many int weights may not fit an int.
    private final long[] current;
    private final long total;

    public SmoothWeightedRoundRobin(List<E> candidates) {
        this.servers = candidates.toArray();
        this.weights = new int[servers.length];
        this.current = new long[servers.length];
        long sum = 0;
        for (int i = 0; i < servers.length; i++) {
            weights[i] = Endpoints.weight((Endpoint) servers[i]);
            sum += weights[i];
        }
        this.total = sum;
    }

    @Override
    @SuppressWarnings("unchecked")
    public E pick(RequestKey request, E exclude) {
        int skip = Endpoints.indexOf(servers, exclude);
        long roundTotal = skip < 0 ? total : total - weights[skip];
        int best = -1;
        long bestCurrent = Long.MIN_VALUE;
        for (int i = 0; i < servers.length; i++) {
            if (i == skip) {
                continue;
            }
            long c = current[i] + weights[i];
            current[i] = c;
            if (c > bestCurrent) {
                bestCurrent = c;
                best = i;
            }
        }
        if (best < 0) {
            return null;
        }
        current[best] -= roundTotal;
        return (E) servers[best];
    }
}
