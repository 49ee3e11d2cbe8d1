package dev.weldr.proxy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A count kept by the event loops without atomics: each loop adds to its own cell (a cache line
 * apart from the others, so loops never contend for one), and a reader sums the cells. Cheaper
 * than a {@link java.util.concurrent.atomic.LongAdder} on the hot path, where every request
 * counts several times; readers (the admin API, Prometheus) may see a count a moment late.
 */
final class LoopCounter {

    /** Longs per cache line: cells this far apart never share one. */
    private static final int SPREAD = 8;
    private static final VarHandle CELLS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] cells;

    LoopCounter() {
        this.cells = new long[ProxyServer.eventLoops() * SPREAD];
    }

    /** Adds one; called by the thread of loop {@code loop} only. */
    void increment(int loop) {
        int i = loop * SPREAD;
        CELLS.setOpaque(cells, i, (long) CELLS.getOpaque(cells, i) + 1);
    }

    long sum() {
        long sum = 0;
        for (int i = 0; i < cells.length; i += SPREAD) {
            sum += (long) CELLS.getOpaque(cells, i);
        }
        return sum;
    }
}
