package dev.weldr.cluster;

import dev.weldr.pool.Pool;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The last pool this node applied, published with one volatile write. Readers (the proxy,
 * the admin API) never lock; listeners (health checks, routing) are told of every new pool.
 */
@ApplicationScoped
public class PoolHolder {

    private volatile Pool current = Pool.EMPTY;
    private final List<Consumer<Pool>> listeners = new CopyOnWriteArrayList<>();

    public Pool current() {
        return current;
    }

    public void publish(Pool pool) {
        current = pool;
        for (Consumer<Pool> listener : listeners) {
            listener.accept(pool);
        }
    }

    /** Registers a listener and hands it the current pool at once. */
    public void subscribe(Consumer<Pool> listener) {
        listeners.add(listener);
        listener.accept(current);
    }
}
