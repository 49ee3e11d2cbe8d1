package dev.weldr.proxy.lb;

import dev.weldr.pool.LbPolicy;

import java.util.List;
import java.util.Objects;

/** Turns a pool's replicated {@link LbPolicy} into the factory of its balancers. */
public final class Policies {

    private static final LoadBalancer.Factory ROUND_ROBIN = RoundRobin::create;
    private static final LoadBalancer.Factory LEAST_REQUESTS = LeastRequests::create;

    private Policies() {
    }

    public static LoadBalancer.Factory factory(LbPolicy policy) {
        Objects.requireNonNull(policy, "policy");
        return switch (policy.kind()) {
            // One weighted algorithm under both names: pools created with weighted-round-robin
            // before round-robin honoured weights keep working, and their Raft entries decode.
            case ROUND_ROBIN, WEIGHTED_ROUND_ROBIN -> ROUND_ROBIN;
            case LEAST_REQUESTS -> LEAST_REQUESTS;
            case CONSISTENT_HASH -> new LoadBalancer.Factory() {
                @Override
                public <E extends Endpoint> LoadBalancer<E> create(List<E> candidates) {
                    return new ConsistentHash<>(candidates, policy.hashOn(), policy.hashName());
                }
            };
        };
    }
}
