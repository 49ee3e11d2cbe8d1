package dev.weldr.pool;

import java.util.Locale;
import java.util.Objects;

/**
 * Sends requests for a host and a path prefix to a pool. Among the routes whose host matches
 * (an empty host matches any), the longest path prefix wins; on equal prefixes a route naming the
 * host wins over one that does not; among routes of the same host and prefix, the first. Requests
 * no route matches go to the default pool. The proxy's {@code RouteIndex} applies this rule.
 *
 * @param name          identity of the route in the API
 * @param host          host name without port, lower case; empty for any host
 * @param pathPrefix    starts with {@code /}; {@code /} matches every path
 * @param pool          name of the pool
 * @param httpsRedirect a request on the plain listener gets a 308 to the same URL over HTTPS instead
 * @param hsts          the Strict-Transport-Security policy of the answers over HTTPS; null for none
 */
public record Route(String name, String host, String pathPrefix, String pool, boolean httpsRedirect, Hsts hsts) {

    public Route {
        Objects.requireNonNull(name, "name");
        host = host == null ? "" : host.toLowerCase(Locale.ROOT);
        pathPrefix = pathPrefix == null || pathPrefix.isEmpty() ? "/" : pathPrefix;
        Objects.requireNonNull(pool, "pool");
    }

    /** A route that only picks a pool. */
    public Route(String name, String host, String pathPrefix, String pool) {
        this(name, host, pathPrefix, pool, false, null);
    }
}
