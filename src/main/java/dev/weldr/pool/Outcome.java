package dev.weldr.pool;

/**
 * The result of applying one command: the state after it and what happened. A refused command
 * still occupies its log entry but leaves the state as it was, identically on every replica.
 *
 * @param server the server the command concerned, as stored after it (add, update) or as it was
 *               (remove); the first server a pool's new protocol cannot reach; otherwise null for
 *               commands about pools, routes and nodes
 */
public record Outcome(Topology topology, Result result, Server server) {

    public enum Result {
        APPLIED,
        /** The server, pool or route already exists. */
        ALREADY_EXISTS,
        /** The server or route does not exist. */
        NOT_FOUND,
        /** The pool named by the command does not exist. */
        NO_SUCH_POOL,
        /** The pool is still the target of a route, or is the default pool. */
        IN_USE,
        /** A new pool or route past {@link Topology#MAX_POOLS} or {@link Topology#MAX_ROUTES}. */
        TOO_MANY,
        /**
         * A server the pool's protocol cannot reach (h2 needs https://, h2c http://); {@link #server}
         * is that server.
         */
        WRONG_SCHEME
    }

    public boolean applied() {
        return result == Result.APPLIED;
    }
}
