package dev.weldr.pool;

import java.time.Duration;

/**
 * Passive health checking (Envoy's outlier detection): failures seen on real traffic eject a
 * server for a cool-down that grows with each ejection.
 *
 * @param consecutiveFailures  failures in a row (connect error, reset, timeout; and 5xx when
 *                             {@code count5xx}) that eject a server; 0 turns passive checking off
 * @param count5xx             whether a 5xx answer counts as a failure
 * @param baseEjection         the first cool-down; the n-th ejection in a row lasts n times as long
 * @param maxEjection          the longest cool-down
 * @param maxEjectionPercent   the largest share of the pool's servers ejected at once
 */
public record OutlierSpec(int consecutiveFailures, boolean count5xx, Duration baseEjection, Duration maxEjection,
                          int maxEjectionPercent) {

    public static final OutlierSpec DEFAULTS = new OutlierSpec(5, false, Duration.ofSeconds(30), Duration.ofSeconds(300), 10);

    public boolean enabled() {
        return consecutiveFailures > 0;
    }
}
