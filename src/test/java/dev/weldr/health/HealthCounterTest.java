package dev.weldr.health;

import org.junit.jupiter.api.Test;

import static dev.weldr.health.HealthCounter.Change.CAME_BACK;
import static dev.weldr.health.HealthCounter.Change.NONE;
import static dev.weldr.health.HealthCounter.Change.WENT_DOWN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HealthCounterTest {

    @Test
    void shouldGoDownOnTheThirdConsecutiveFailureOnly() {
        HealthCounter c = new HealthCounter(3, 2);
        assertEquals(NONE, c.record(false));
        assertEquals(NONE, c.record(false));
        assertTrue(c.up());
        assertEquals(WENT_DOWN, c.record(false));
        assertFalse(c.up());
        assertEquals(NONE, c.record(false), "already down: no second transition");
    }

    @Test
    void shouldRestartTheFailureCountAfterAPass() {
        HealthCounter c = new HealthCounter(3, 2);
        c.record(false);
        c.record(false);
        c.record(true);
        assertEquals(NONE, c.record(false));
        assertEquals(NONE, c.record(false));
        assertTrue(c.up());
        assertEquals(WENT_DOWN, c.record(false));
    }

    @Test
    void shouldComeBackAfterTwoConsecutivePasses() {
        HealthCounter c = new HealthCounter(1, 2);
        assertEquals(WENT_DOWN, c.record(false));
        assertEquals(NONE, c.record(true));
        assertEquals(NONE, c.record(false), "a failure between passes restarts the count");
        assertEquals(NONE, c.record(true));
        assertFalse(c.up());
        assertEquals(CAME_BACK, c.record(true));
        assertTrue(c.up());
        assertEquals(NONE, c.record(true));
    }
}
