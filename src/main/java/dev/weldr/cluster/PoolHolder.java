package dev.weldr.cluster;

import dev.weldr.pool.Topology;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The last pool this node applied, published with one volatile write. Readers (the proxy,
 * the admin API) never lock; listeners (health checks, routing) are told of every new pool.
 */
@ApplicationScoped
public class PoolHolder {

    private volatile Topology current = Topology.EMPTY;
    private final List<Consumer<Topology>> listeners = new CopyOnWriteArrayList<>();
    private final Queue<Waiter> waiters = new ConcurrentLinkedQueue<>();

    public Topology current() {
        return current;
    }

    public void publish(Topology pool) {
        current = pool;
        for (Consumer<Topology> listener : listeners) {
            listener.accept(pool);
        }
        for (Waiter w : waiters) {
            if (w.condition.test(pool) && w.future.complete(pool)) {
                waiters.remove(w);
            }
        }
    }

    /**
     * Completes with the first published pool (or the current one) that satisfies the condition,
     * or with a {@link java.util.concurrent.TimeoutException} after {@code within}.
     */
    public CompletableFuture<Topology> await(Predicate<Topology> condition, Duration within) {
        Topology now = current;
        if (condition.test(now)) {
            return CompletableFuture.completedFuture(now);
        }
        Waiter w = new Waiter(condition, new CompletableFuture<>());
        waiters.add(w);
        now = current;
        if (condition.test(now)) {
            w.future.complete(now);
        }
        return w.future.orTimeout(within.toMillis(), TimeUnit.MILLISECONDS).whenComplete((p, e) -> waiters.remove(w));
    }

    private record Waiter(Predicate<Topology> condition, CompletableFuture<Topology> future) {
    }

    /** Registers a listener and hands it the current pool at once. */
    public void subscribe(Consumer<Topology> listener) {
        listeners.add(listener);
        listener.accept(current);
    }
}
