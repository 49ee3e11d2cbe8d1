package dev.weldr.proxy;

import dev.weldr.pool.OutlierSpec;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OutlierRulesTest {

    private static final OutlierSpec SPEC = new OutlierSpec(5, false, Duration.ofSeconds(30), Duration.ofSeconds(100), 10);

    @Test
    void shouldLengthenTheCoolDownWithEachEjectionInARowUpToTheMaximum() {
        assertEquals(30_000, BackendRegistry.coolDownMs(SPEC, 1));
        assertEquals(60_000, BackendRegistry.coolDownMs(SPEC, 2));
        assertEquals(90_000, BackendRegistry.coolDownMs(SPEC, 3));
        assertEquals(100_000, BackendRegistry.coolDownMs(SPEC, 4));
        assertEquals(100_000, BackendRegistry.coolDownMs(SPEC, 40));
    }

    @Test
    void shouldAlwaysAllowOneEjectionButNeverMoreThanTheShare() {
        assertTrue(BackendRegistry.mayEject(0, 3, 10), "one server may always be ejected");
        assertFalse(BackendRegistry.mayEject(1, 3, 10), "a second of three is over 10 %");
        assertTrue(BackendRegistry.mayEject(1, 20, 10), "two of twenty is 10 %");
        assertFalse(BackendRegistry.mayEject(2, 20, 10), "three of twenty is over 10 %");
        assertTrue(BackendRegistry.mayEject(2, 4, 100));
        assertFalse(BackendRegistry.mayEject(1, 4, 0), "0 % still lets one go, and no more");
    }
}
