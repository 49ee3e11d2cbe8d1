package dev.weldr.proxy.lb;

import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Least requests by the power of two choices: two distinct candidates are drawn at random and
 * the less loaded one wins. It sends traffic away from a slow server almost as well as a
 * full scan would, without every event loop herding onto the same momentarily idle server,
 * and costs O(1) per pick. The most loaded server is never chosen while another exists.
 *
 * <p>Load is {@code (inFlight + 1) / weight}, compared by cross-multiplication: with weights
 * equal this is plain in-flight count, and the {@code + 1} (as in Envoy) lets weights count even
 * when both servers are idle, where {@code inFlight / weight} would call them equal. A tie goes
 * to the first draw, which is itself random. {@code inFlight} is read live on every pick;
 * weights are read when the balancer is built.
 *
 * <p>A pick excluding a server draws among the others; it returns null only when the excluded
 * server is the only candidate.
 */
public final class LeastRequests<E extends Endpoint> implements LoadBalancer<E> {

    private final Object[] servers;
    private final int[] weights;
    private final RandomGenerator random;

    /**
     * @param random the source of the draws; used by this balancer's thread only, so it need not
     *               be thread-safe, and a seeded one makes tests repeatable
     */
    public LeastRequests(List<E> candidates, RandomGenerator random) {
        this.servers = candidates.toArray();
        this.weights = new int[servers.length];
        for (int i = 0; i < servers.length; i++) {
            weights[i] = Endpoints.weight((Endpoint) servers[i]);
        }
        this.random = random;
    }

    /** A balancer with its own unseeded generator. */
    public static <E extends Endpoint> LeastRequests<E> create(List<E> candidates) {
        return new LeastRequests<>(candidates, new SplittableRandom());
    }

    @Override
    @SuppressWarnings("unchecked")
    public E pick(RequestKey request, E exclude) {
        int skip = Endpoints.indexOf(servers, exclude);
        int m = skip < 0 ? servers.length : servers.length - 1;
        if (m <= 0) {
            return null;
        }
        if (m == 1) {
            return (E) servers[skip == 0 ? 1 : 0];
        }
        // Two distinct draws among the m eligible positions, then past the excluded one.
        int a = random.nextInt(m);
        int b = random.nextInt(m - 1);
        if (b >= a) {
            b++;
        }
        if (skip >= 0) {
            if (a >= skip) {
                a++;
            }
            if (b >= skip) {
                b++;
            }
        }
        long loadA = (((Endpoint) servers[a]).inFlight() + 1L) * weights[b];
        long loadB = (((Endpoint) servers[b]).inFlight() + 1L) * weights[a];
        return (E) servers[loadB < loadA ? b : a];
    }
}
