package dev.weldr;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The heap flags weldr sets at start-up take effect, and never replace a value someone else chose. */
class HeapTuningTest {

    @Test
    void shouldSetTheHeapFlagsOnceAndLeaveChosenValuesAlone() {
        HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        boolean g1 = ManagementFactory.getGarbageCollectorMXBeans().stream().anyMatch(gc -> gc.getName().startsWith("G1"));

        Map<String, String> first = HeapTuning.apply();
        for (Map.Entry<String, String> flag : first.entrySet()) {
            VMOption option = hotspot.getVMOption(flag.getKey());
            assertEquals(flag.getValue(), option.getValue(), flag.getKey());
            assertEquals(VMOption.Origin.MANAGEMENT, option.getOrigin(), flag.getKey());
        }
        for (String name : HeapTuning.DEFAULTS.keySet()) {
            VMOption option = hotspot.getVMOption(name);
            if (!first.containsKey(name)) {
                // Not set: someone chose it (command line), or the collector has no such flag.
                assertTrue(option.getOrigin() != VMOption.Origin.DEFAULT || !g1, name + " was left at " + option);
            }
        }
        assertTrue(Integer.parseInt(hotspot.getVMOption("MinHeapFreeRatio").getValue())
                <= Integer.parseInt(hotspot.getVMOption("MaxHeapFreeRatio").getValue()));
        // Now every flag has a chosen value: a second start-up (say, in the same JVM) changes nothing.
        assertTrue(HeapTuning.apply().isEmpty());
    }
}
