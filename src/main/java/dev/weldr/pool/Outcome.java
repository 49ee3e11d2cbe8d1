package dev.weldr.pool;

/**
 * The result of applying one command: the pool after it and what happened. A rejected
 * command (duplicate, unknown server) still occupies its log entry but leaves the pool as it was,
 * identically on every replica.
 *
 * @param server the server the command concerned, as stored (for an add) or as it was (for a remove)
 */
public record Outcome(Topology pool, Result result, Server server) {

    public enum Result {
        APPLIED, ALREADY_EXISTS, NOT_FOUND
    }

    public boolean applied() {
        return result == Result.APPLIED;
    }
}
