package dev.weldr.proxy.lb;

import java.util.List;

/**
 * One load-balancing policy. An instance is built for one set of candidates (the routable
 * servers of a pool at one moment) and is rebuilt when that set changes; it may keep state
 * between picks (round-robin's deadlines), and is used by one event-loop thread only, so it
 * needs no synchronisation.
 *
 * <p>Weights are read when the balancer is built, so a weight change is a change of the set:
 * rebuild. {@link Endpoint#inFlight()} is read live, on every pick.
 */
public interface LoadBalancer<E extends Endpoint> {

    /**
     * Picks the server for a request, or null when there is none. {@code exclude}, when not
     * null, is a server that just failed this request: another one is picked if there is one,
     * and null is returned if it is the only candidate, so a lone server is not tried twice.
     * It is matched by identity, else by {@link Endpoint#id()}, so it may come from a balancer
     * built before this one.
     *
     * @param request what consistent hashing hashes on; the other policies do not read it
     */
    E pick(RequestKey request, E exclude);

    /** Builds balancers of one policy for a list of candidates (never modified afterwards). */
    interface Factory {
        <E extends Endpoint> LoadBalancer<E> create(List<E> candidates);
    }
}
