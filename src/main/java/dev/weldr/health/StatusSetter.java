package dev.weldr.health;

import dev.weldr.pool.ServerKey;

/** What the health checker needs from the data plane: a way to mark a server of a pool up or down. */
public interface StatusSetter {

    /** Returns true when this changed the server's state. */
    boolean setUp(String pool, ServerKey key, boolean up);
}
