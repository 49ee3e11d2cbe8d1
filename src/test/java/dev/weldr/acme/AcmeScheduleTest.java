package dev.weldr.acme;

import dev.weldr.pool.ManagedCertificate;
import dev.weldr.pool.ManagedCertificate.State;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** When the leader next works on a managed certificate, and how retries back off. */
class AcmeScheduleTest {

    private static ManagedCertificate of(State state, String order, long nextAttempt, long renewAt) {
        return new ManagedCertificate("shop", List.of("shop.example"), state, order, order == null ? null : "key", List.of(), null,
                nextAttempt, 0, renewAt);
    }

    @Test
    void shouldResumeAnOrderAtOnceAndOtherwiseWaitForItsTime() {
        assertEquals(0, AcmeOrders.dueAt(of(State.PENDING, null, 0, 0)), "a new request is ordered at once");
        assertEquals(0, AcmeOrders.dueAt(of(State.RENEWING, "https://ca/order/1", 0, 5)), "an order under way is resumed at once");
        assertEquals(0, AcmeOrders.dueAt(of(State.PENDING, "https://ca/order/1", 0, 0)));
        assertEquals(77, AcmeOrders.dueAt(of(State.FAILED, "https://ca/order/1", 77, 0)), "a failure waits for its next attempt");
        assertEquals(1234, AcmeOrders.dueAt(of(State.VALID, null, 0, 1234)), "a valid certificate waits for its renewal");
    }

    @Test
    void shouldDoubleTheWaitUpToSixHours() {
        long minute = Duration.ofMinutes(1).toMillis();
        assertEquals(minute, AcmeOrders.backoff(minute, 1));
        assertEquals(2 * minute, AcmeOrders.backoff(minute, 2));
        assertEquals(32 * minute, AcmeOrders.backoff(minute, 6));
        assertEquals(Duration.ofHours(6).toMillis(), AcmeOrders.backoff(minute, 10));
        assertEquals(Duration.ofHours(6).toMillis(), AcmeOrders.backoff(minute, 1000), "no overflow however long it fails");
        assertEquals(Duration.ofHours(7).toMillis(), AcmeOrders.backoff(Duration.ofHours(7).toMillis(), 3),
                "a first wait set above the cap is kept");
    }
}
