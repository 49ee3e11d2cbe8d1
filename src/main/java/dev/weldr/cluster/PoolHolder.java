package dev.weldr.cluster;

import dev.weldr.pool.Pool;
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

    private volatile Pool current = Pool.EMPTY;
    private final List<Consumer<Pool>> listeners = new CopyOnWriteArrayList<>();
    private final Queue<Waiter> waiters = new ConcurrentLinkedQueue<>();

    public Pool current() {
        return current;
    }

    public void publish(Pool pool) {
        current = pool;
        for (Consumer<Pool> listener : listeners) {
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
    public CompletableFuture<Pool> await(Predicate<Pool> condition, Duration within) {
        Pool now = current;
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

    private record Waiter(Predicate<Pool> condition, CompletableFuture<Pool> future) {
    }

    /** Registers a listener and hands it the current pool at once. */
    public void subscribe(Consumer<Pool> listener) {
        listeners.add(listener);
        listener.accept(current);
    }
}
