package dev.weldr.proxy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * How long a server's requests took, counted in fixed buckets, since the server joined its pool:
 * a reader (the dashboard) takes the difference of two readings to get percentiles over any
 * window, without the node keeping a window of its own. Written by the event loops as
 * {@link LoopCounter} is: each loop in its own row, no atomics.
 */
public final class LatencyHistogram {

    /** Upper bounds of the buckets, in milliseconds; a last bucket counts everything slower. */
    public static final List<Integer> BOUNDS_MS = List.of(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000);
    private static final long[] BOUNDS_NANOS = BOUNDS_MS.stream().mapToLong(ms -> ms * 1_000_000L).toArray();
    private static final int BUCKETS = BOUNDS_NANOS.length + 1;
    /** A row's buckets plus a cache line, so that two loops' rows never share one. */
    private static final int ROW = BUCKETS + 8;
    private static final VarHandle CELLS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] cells = new long[ProxyServer.eventLoops() * ROW];

    /** Counts one request of {@code nanos}; called by the thread of loop {@code loop} only. */
    void record(int loop, long nanos) {
        int bucket = 0;
        while (bucket < BOUNDS_NANOS.length && nanos > BOUNDS_NANOS[bucket]) {
            bucket++;
        }
        int i = loop * ROW + bucket;
        CELLS.setOpaque(cells, i, (long) CELLS.getOpaque(cells, i) + 1);
    }

    /** The count of each bucket, {@link #BOUNDS_MS} order, the slower-than-all bucket last. */
    public long[] counts() {
        long[] counts = new long[BUCKETS];
        for (int row = 0; row < cells.length; row += ROW) {
            for (int b = 0; b < BUCKETS; b++) {
                counts[b] += (long) CELLS.getOpaque(cells, row + b);
            }
        }
        return counts;
    }
}
