package dev.weldr.pool;

/** A change to the desired pool. Commands go through the Raft log and are applied by {@link Topology#apply}. */
public sealed interface PoolCommand {

    record AddServer(Server server) implements PoolCommand {
    }

    record RemoveServer(ServerKey key) implements PoolCommand {
    }

    /**
     * Records where a node's admin API answers, so that followers can forward writes to the
     * leader. A leader registers itself when it takes office if the record is missing or stale.
     */
    record RegisterNode(String nodeId, String adminUrl) implements PoolCommand {
    }
}
