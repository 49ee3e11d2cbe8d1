package dev.weldr.health;

import dev.weldr.pool.ServerKey;

/** What the health checker needs from the data plane: a way to mark a server up or down. */
public interface StatusSetter {

    /** Returns true when this changed the server's state. */
    boolean setUp(ServerKey key, boolean up);
}
