package dev.weldr.raft;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * With the Raft node started, SIGUSR2 is still the JVM's (HotSpot suspends threads with it, and
 * JFR samples that way), not JRaft's file-writing handler.
 */
@QuarkusTest
class VmSignalsTest {

    @Test
    void shouldLeaveSigusr2ToTheVmOnceTheRaftNodeRuns() {
        Signal usr2 = new Signal(VmSignals.SIGNAL);
        SignalHandler current = Signal.handle(usr2, signal -> { });
        Signal.handle(usr2, current);
        assertFalse(current.getClass().getName().startsWith("com.alipay"),
                "SIGUSR2 is handled by " + current.getClass().getName());
    }
}
