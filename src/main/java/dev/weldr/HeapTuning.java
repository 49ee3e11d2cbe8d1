package dev.weldr;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import org.jboss.logging.Logger;

import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Gives memory back when weldr is quiet. weldr keeps little live data (tens of MB), but with the
 * JVM's defaults G1 keeps every heap region it ever grew to — after a burst of traffic or of pool
 * changes, hundreds of MB stay resident for nothing. These flags can be changed while the JVM
 * runs, so they are set at start-up (never over a value given on the command line): a periodic
 * collection when no collection ran for 15 s, after which G1 shrinks the heap to at most 30 % free.
 */
final class HeapTuning {

    private static final Logger LOG = Logger.getLogger(HeapTuning.class);

    /** In order: MinHeapFreeRatio must never exceed MaxHeapFreeRatio, on the way down too. */
    static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

    static {
        DEFAULTS.put("MinHeapFreeRatio", "10");
        DEFAULTS.put("MaxHeapFreeRatio", "30");
        DEFAULTS.put("G1PeriodicGCInterval", "15000");
    }

    private HeapTuning() {
    }

    /** Applies {@link #DEFAULTS} where the command line left the JVM's own default; returns what was set. */
    static Map<String, String> apply() {
        Map<String, String> applied = new LinkedHashMap<>();
        HotSpotDiagnosticMXBean hotspot;
        try {
            hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        } catch (RuntimeException | LinkageError e) {
            return applied;
        }
        if (hotspot == null) {
            return applied;
        }
        for (Map.Entry<String, String> flag : DEFAULTS.entrySet()) {
            try {
                VMOption option = hotspot.getVMOption(flag.getKey());
                if (option.getOrigin() == VMOption.Origin.DEFAULT && option.isWriteable()) {
                    hotspot.setVMOption(flag.getKey(), flag.getValue());
                    applied.put(flag.getKey(), flag.getValue());
                }
            } catch (RuntimeException e) {
                // Another collector (no G1 flag), or a value the JVM refuses: its default stays.
                LOG.debugf("heap tuning: %s left as it is: %s", flag.getKey(), e.getMessage());
            }
        }
        return applied;
    }
}
