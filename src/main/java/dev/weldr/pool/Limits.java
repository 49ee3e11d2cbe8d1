package dev.weldr.pool;

/**
 * A pool's retry budget and per-server caps (Envoy's circuit breakers).
 *
 * @param retries     extra tries on another server after a connect failure, or after a reset of an
 *                    idempotent request with no body; never after a body reached a backend
 * @param maxRequests requests in flight to one server from this node; beyond it, 503 at once (0: no cap)
 */
public record Limits(int retries, int maxRequests) {

    public static final Limits DEFAULTS = new Limits(1, 0);
}
