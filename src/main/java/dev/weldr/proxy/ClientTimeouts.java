package dev.weldr.proxy;

import dev.weldr.config.WeldrConfig;

/**
 * The deadlines of a client connection, in nanoseconds (see {@link FrontConnection}'s timer):
 * the whole request head, the gap between two reads of a request body, a client taking no byte
 * of its answer, the gap between two requests, and a WebSocket tunnel's silence both ways.
 */
record ClientTimeouts(long headNanos, long bodyNanos, long sendNanos, long keepAliveNanos, long tunnelNanos) {

    static ClientTimeouts of(WeldrConfig.Timeout t) {
        return new ClientTimeouts(t.clientHead().toNanos(), t.clientBody().toNanos(), t.clientSend().toNanos(),
                t.keepAlive().toNanos(), t.tunnel().toNanos());
    }

    /**
     * How soon the timer looks again while no deadline runs (a client waiting for its answer):
     * the shortest of the others, so that the deadline that follows is seldom earlier than the
     * timer and needs no new one.
     */
    long pollNanos() {
        return Math.min(Math.min(headNanos, bodyNanos), Math.min(sendNanos, keepAliveNanos));
    }
}
