package dev.weldr.pool;

import java.util.Objects;

/** Everything about a pool but its servers; replicated, changed through the API. */
public record PoolSettings(LbPolicy policy, HealthCheckSpec healthCheck, OutlierSpec outlier, Limits limits, BackendTls tls,
                           BackendProtocol protocol) {

    public static final PoolSettings DEFAULTS = new PoolSettings(LbPolicy.ROUND_ROBIN, HealthCheckSpec.DEFAULTS,
            OutlierSpec.DEFAULTS, Limits.DEFAULTS, BackendTls.DEFAULTS, BackendProtocol.HTTP1);

    public PoolSettings {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(healthCheck, "healthCheck");
        Objects.requireNonNull(outlier, "outlier");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(protocol, "protocol");
    }

    /** Settings of HTTP/1.1 servers. */
    public PoolSettings(LbPolicy policy, HealthCheckSpec healthCheck, OutlierSpec outlier, Limits limits, BackendTls tls) {
        this(policy, healthCheck, outlier, limits, tls, BackendProtocol.HTTP1);
    }

    /** Settings of HTTP/1.1 servers with the default backend TLS (verified). */
    public PoolSettings(LbPolicy policy, HealthCheckSpec healthCheck, OutlierSpec outlier, Limits limits) {
        this(policy, healthCheck, outlier, limits, BackendTls.DEFAULTS);
    }
}
