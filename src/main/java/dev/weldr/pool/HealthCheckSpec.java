package dev.weldr.pool;

import java.time.Duration;

/**
 * A pool's active health check. A null field means "this node's default" (the
 * {@code weldr.health-check.*} keys), so that weldr's defaults stay the defaults.
 *
 * @param statusMin   lowest status that passes (default 200)
 * @param statusMax   highest status that passes (default 299)
 * @param grpcService null for an HTTP check; otherwise the check is the standard gRPC health
 *                    service's {@code grpc.health.v1.Health/Check} for this service name ("" for
 *                    the server as a whole, as Envoy's {@code grpc_health_check.service_name}),
 *                    and {@code path} and the status range do not apply
 */
public record HealthCheckSpec(Duration interval, Duration timeout, String path, Integer statusMin, Integer statusMax,
                              Integer failures, Integer passes, String grpcService) {

    public static final HealthCheckSpec DEFAULTS = new HealthCheckSpec(null, null, null, null, null, null, null, null);

    /** An HTTP check. */
    public HealthCheckSpec(Duration interval, Duration timeout, String path, Integer statusMin, Integer statusMax,
                           Integer failures, Integer passes) {
        this(interval, timeout, path, statusMin, statusMax, failures, passes, null);
    }

    /** A gRPC service name is a protobuf full name; far shorter in practice. */
    public static final int MAX_GRPC_SERVICE = 256;

    public boolean grpc() {
        return grpcService != null;
    }

    /**
     * What is wrong with a gRPC service name, or null: a protobuf full name (letters, digits, '_'
     * and '.'), bounded, so that the check's request stays a few bytes.
     */
    public static String grpcServiceProblem(String service) {
        if (service.length() > MAX_GRPC_SERVICE) {
            return "must be at most " + MAX_GRPC_SERVICE + " characters";
        }
        if (!service.matches("[A-Za-z0-9_.]*")) {
            return "must be a gRPC service name such as my.package.Orders (letters, digits, '_' and '.'), or empty for the whole server";
        }
        return null;
    }

    /**
     * The shortest interval and timeout a check may have, pool settings and weldr.health-check.*
     * alike: below it a pool of a few hundred servers is thousands of checks a second. Kubernetes'
     * probes stop at 1 s and HAProxy's {@code inter} has no floor; 100 ms leaves room for fast
     * detection where an operator wants it.
     */
    public static final Duration MIN_INTERVAL = Duration.ofMillis(100);

    /** Longer than any request line weldr or a common backend takes (8 KB) makes no sense. */
    public static final int MAX_PATH = 1024;

    /**
     * What is wrong with a check path, or null: it goes on the check's request line as it is, so
     * a space, CR, LF or other control character would make a request no server answers (and mark
     * every server of the pool down), or a second request.
     */
    public static String pathProblem(String path) {
        if (!path.startsWith("/")) {
            return "must start with /";
        }
        if (path.length() > MAX_PATH) {
            return "must be at most " + MAX_PATH + " characters";
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= ' ' || c >= 0x7F || c == '#') {
                return "must be a path and query of visible ASCII characters, with no space, control character nor '#'"
                        + " (percent-encode them)";
            }
        }
        return null;
    }
}
