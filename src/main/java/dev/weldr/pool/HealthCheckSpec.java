package dev.weldr.pool;

import java.time.Duration;

/**
 * A pool's active health check. A null field means "this node's default" (the
 * {@code weldr.health-check.*} keys), so that weldr's defaults stay the defaults.
 *
 * @param statusMin lowest status that passes (default 200)
 * @param statusMax highest status that passes (default 299)
 */
public record HealthCheckSpec(Duration interval, Duration timeout, String path, Integer statusMin, Integer statusMax,
                              Integer failures, Integer passes) {

    public static final HealthCheckSpec DEFAULTS = new HealthCheckSpec(null, null, null, null, null, null, null);
}
