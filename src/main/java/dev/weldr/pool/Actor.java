package dev.weldr.pool;

/**
 * Who asked for a change: the name of the token the admin call presented, and the node that took
 * the call.
 */
public record Actor(String token, String node) {
}
