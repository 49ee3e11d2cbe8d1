package dev.weldr.health;

import dev.weldr.pool.ServerKey;

import java.net.InetSocketAddress;

/**
 * What the health checker needs from the data plane: where a server of a pool is reached, and a
 * way to mark it up or down.
 */
public interface StatusSetter {

    /** Returns true when this changed the server's state. */
    boolean setUp(String pool, ServerKey key, boolean up);

    /**
     * The address the proxy connects to for this server (its host name as last looked up, or
     * unresolved while no lookup found it), so that a check probes what traffic reaches; null
     * when the data plane does not know the server (yet).
     */
    InetSocketAddress address(String pool, ServerKey key);
}
