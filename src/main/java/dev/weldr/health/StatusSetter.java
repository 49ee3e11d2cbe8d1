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
     * The address the proxy connects to for this server (its host name as last looked up), so that
     * a check probes what traffic reaches; null when unknown or not resolved.
     */
    InetSocketAddress address(String pool, ServerKey key);
}
