package dev.weldr.tls;

import dev.weldr.cluster.PoolHolder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.time.Clock;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the HTTPS listener tells Prometheus: handshakes completed and failed (by {@link Failure}),
 * and for each certificate served, the seconds left until its leaf expires and the expiry as a
 * timestamp. The certificate series follow the served table within about a second; the expiry
 * log lines ({@link ExpiryWarnings}) are checked then too, and every hour.
 */
@ApplicationScoped
public class TlsMetrics {

    /** Why a handshake failed: a small fixed set, so that a flood of bad clients adds no series. */
    public enum Failure {
        /** The handshake (ClientHello included) did not complete within {@code weldr.tls.handshake-timeout}. */
        TIMEOUT,
        /** The client spoke plain HTTP to the HTTPS port (answered 400). */
        PLAIN_HTTP,
        /** No version, cipher suite or group in common (a TLS 1.0 client), or bytes that are not TLS. */
        PROTOCOL,
        /** The server name (or none) is covered by no certificate and there is no default certificate. */
        UNRECOGNIZED_NAME,
        /** The client refused the certificate (expired, untrusted, wrong name): it said so with an alert. */
        CERTIFICATE_REJECTED,
        /** The client closed or reset the connection before the handshake completed. */
        CLOSED,
        OTHER;

        final String label = name().toLowerCase(Locale.ROOT);
    }

    static final long CHECK_PERIOD_MS = 1000;
    static final long EXPIRY_CHECK_PERIOD_MS = 3_600_000;

    @Inject
    MeterRegistry registry;
    @Inject
    CertificateStore certificates;
    @Inject
    PoolHolder holder;
    @Inject
    Vertx vertx;

    private Counter handshakes;
    private final Map<Failure, Counter> failures = new EnumMap<>(Failure.class);
    private MultiGauge expirySeconds;
    private MultiGauge notAfter;
    private final ExpiryWarnings warnings = new ExpiryWarnings(Clock.systemUTC());
    /** The table the rows were registered for; only the Vert.x timer touches these. */
    private SniTable registeredFor;
    private long lastExpiryCheckMs;
    private long timer;

    @PostConstruct
    void register() {
        handshakes = Counter.builder("weldr.tls.handshakes")
                .description("TLS handshakes completed on the HTTPS listener").register(registry);
        for (Failure f : Failure.values()) {
            // Every reason from the start, at 0, so that rate() and alerts see a series before the first failure.
            failures.put(f, Counter.builder("weldr.tls.handshake.failures").tag("reason", f.label)
                    .description("TLS handshakes that failed on the HTTPS listener, by reason").register(registry));
        }
        expirySeconds = MultiGauge.builder("weldr.tls.certificate.expiry.seconds")
                .description("Seconds until the certificate's leaf expires (negative once it has)").register(registry);
        notAfter = MultiGauge.builder("weldr.tls.certificate.not.after.timestamp.seconds")
                .description("When the certificate's leaf expires (notAfter), in seconds since the epoch").register(registry);
    }

    void start(@Observes StartupEvent event) {
        refresh();
        timer = vertx.setPeriodic(CHECK_PERIOD_MS, id -> refresh());
    }

    void stop(@Observes ShutdownEvent event) {
        vertx.cancelTimer(timer);
    }

    /** Called on an event loop once per connection whose handshake completed. */
    public void handshake() {
        handshakes.increment();
    }

    /** Called on an event loop once per connection whose handshake failed. */
    public void failed(Failure reason) {
        failures.get(reason).increment();
    }

    private void refresh() {
        SniTable table = certificates.table();
        long now = System.currentTimeMillis();
        boolean changed = table != registeredFor;
        if (changed) {
            registeredFor = table;
            List<SniTable.Served> served = table.all();
            // Overwriting drops the rows of certificates no longer served.
            expirySeconds.register(served.stream().<MultiGauge.Row<?>>map(s -> MultiGauge.Row.of(
                    Tags.of("certificate", s.name()), s, x -> (x.info().notAfter().toEpochMilli() - System.currentTimeMillis()) / 1000.0))
                    .toList(), true);
            notAfter.register(served.stream().<MultiGauge.Row<?>>map(s -> MultiGauge.Row.of(
                    Tags.of("certificate", s.name()), s, x -> x.info().notAfter().toEpochMilli() / 1000.0))
                    .toList(), true);
        }
        if (changed || now - lastExpiryCheckMs >= EXPIRY_CHECK_PERIOD_MS) {
            lastExpiryCheckMs = now;
            warnings.check(table.all(), holder.current().managed().keySet());
        }
    }
}
