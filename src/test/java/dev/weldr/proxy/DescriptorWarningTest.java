package dev.weldr.proxy;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The warning a large pool earns when the open-files limit cannot keep its backend connections. */
class DescriptorWarningTest {

    @Test
    void shouldStayQuietWhileHalfTheLimitCoversEveryServerOnEveryEventLoop() {
        assertNull(BackendRegistry.descriptorWarning(100, 2, 20_000));
        assertNull(BackendRegistry.descriptorWarning(5_000, 2, 20_000));
        assertNull(BackendRegistry.descriptorWarning(10_000, 2, -1), "no limit known: nothing to say");
    }

    @Test
    void shouldNameTheLimitToSetWhenAPoolOutgrowsIt() {
        // The case of this project's benchmark machine: 10,000 servers, 2 cores, 20,000 files.
        String warning = BackendRegistry.descriptorWarning(10_000, 2, 20_000);
        assertTrue(warning != null && warning.contains("20000 backend connections") && warning.contains("at least 40000"), warning);
        assertTrue(warning.contains("weldr.proxy.event-loops"), "fewer loops need fewer connections: " + warning);
        assertTrue(BackendRegistry.descriptorWarning(5_001, 2, 20_000) != null);
        String oneLoop = BackendRegistry.descriptorWarning(15_000, 1, 20_000);
        assertTrue(oneLoop != null && !oneLoop.contains("event-loops"), "one loop is as few as it gets: " + oneLoop);
    }
}
