package dev.weldr.tls;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When the expiry lines are written, with a clock the test moves. */
class ExpiryWarningsTest {

    private static final Instant NOT_AFTER = Instant.parse("2026-12-13T12:00:00Z");

    private static SniTable.Served served(String name, String fingerprint, Instant notAfter) {
        return new SniTable.Served(name, new CertificateBundle.Info(List.of(name + ".example", "*." + name + ".example"),
                "CN=" + name, "CN=test", notAfter.minus(Duration.ofDays(90)), notAfter, fingerprint, "ECDSA P-256"), null);
    }

    private static final class MovingClock extends Clock {
        Instant now;

        MovingClock(Instant now) {
            this.now = now;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    @Test
    void shouldWarnOnceADayWithinFourteenDaysThenErrorOnceWhenExpired() {
        MovingClock clock = new MovingClock(NOT_AFTER.minus(Duration.ofDays(20)));
        ExpiryWarnings warnings = new ExpiryWarnings(clock);
        List<SniTable.Served> served = List.of(served("shop", "AA", NOT_AFTER), served("blog", "BB", NOT_AFTER.plus(Duration.ofDays(60))));
        try (LogCapture log = LogCapture.of(ExpiryWarnings.class)) {
            warnings.check(served);
            assertEquals(List.of(), log.lines(), "20 days left: nothing yet");

            clock.now = NOT_AFTER.minus(Duration.ofDays(10)).minus(Duration.ofHours(3));
            warnings.check(served);
            assertEquals(List.of("WARN certificate shop (shop.example, *.shop.example) expires in 10 days 3 hours, on 2026-12-13T12:00:00Z:"
                    + " upload its renewal (PUT /certificates/shop)"), log.lines());

            clock.now = clock.now.plus(Duration.ofHours(23));
            warnings.check(served);
            assertEquals(1, log.lines().size(), "once a day at most");
            clock.now = clock.now.plus(Duration.ofHours(1));
            warnings.check(served);
            assertEquals(2, log.lines().size(), "again a day later");
            assertTrue(log.lines().get(1).contains("expires in 9 days 3 hours"), log.lines().get(1));

            clock.now = NOT_AFTER.plus(Duration.ofMinutes(5));
            warnings.check(served);
            warnings.check(served);
            clock.now = clock.now.plus(Duration.ofDays(2));
            warnings.check(served);
            assertEquals(3, log.lines().size(), "one error, once: " + log.lines());
            assertEquals("ERROR certificate shop (shop.example, *.shop.example) expired on 2026-12-13T12:00:00Z, 5 minutes ago:"
                    + " clients refuse it; upload its renewal (PUT /certificates/shop)", log.lines().get(2));

            // The renewal failed once more: a new leaf under the same name, also close to its end, warns at once.
            warnings.check(List.of(served("shop", "CC", clock.now.plus(Duration.ofHours(5)))));
            assertEquals(4, log.lines().size());
            assertTrue(log.lines().get(3).startsWith("WARN certificate shop (shop.example, *.shop.example) expires in 5 hours 0 minutes"),
                    log.lines().get(3));
        }
    }

    @Test
    void shouldPointAManagedCertificateToItsAcmeState() {
        MovingClock clock = new MovingClock(NOT_AFTER.minus(Duration.ofDays(3)));
        ExpiryWarnings warnings = new ExpiryWarnings(clock);
        try (LogCapture log = LogCapture.of(ExpiryWarnings.class)) {
            warnings.check(List.of(served("shop", "AA", NOT_AFTER)), java.util.Set.of("shop"));
            assertEquals(List.of("WARN certificate shop (shop.example, *.shop.example) expires in 3 days 0 hours, on 2026-12-13T12:00:00Z:"
                    + " its ACME renewal has not succeeded yet: GET /certificates/shop says why"), log.lines());
        }
    }
}
