package dev.weldr.proxy.lb;

import dev.weldr.pool.LbPolicy;

import java.util.List;

/** The balancer factory for a pool's policy. */
public final class Policies {

    private Policies() {
    }

    public static LoadBalancer.Factory factory(LbPolicy policy) {
        return new LoadBalancer.Factory() {
            @Override
            public <E extends Endpoint> LoadBalancer<E> create(List<E> candidates) {
                return new SimpleRoundRobin<>(candidates);
            }
        };
    }

    private static final class SimpleRoundRobin<E extends Endpoint> implements LoadBalancer<E> {
        private final List<E> candidates;
        private int next;

        SimpleRoundRobin(List<E> candidates) {
            this.candidates = candidates;
        }

        @Override
        public E pick(RequestKey request, E exclude) {
            int n = candidates.size();
            for (int i = 0; i < n; i++) {
                E e = candidates.get(Math.floorMod(next++, n));
                if (e != exclude) {
                    return e;
                }
            }
            return null;
        }
    }
}
