package dev.weldr.pool;

/** A change to the desired pool. Commands go through the Raft log and are applied by {@link Pool#apply}. */
public sealed interface PoolCommand {

    record AddServer(Server server) implements PoolCommand {
    }

    record RemoveServer(ServerKey key) implements PoolCommand {
    }
}
