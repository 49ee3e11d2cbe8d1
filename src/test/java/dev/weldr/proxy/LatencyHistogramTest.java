package dev.weldr.proxy;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** A request is counted in the first bucket whose bound it does not exceed, as README says. */
class LatencyHistogramTest {

    private static final long MS = 1_000_000L;

    @Test
    void shouldCountEachDurationInTheFirstBucketItDoesNotExceed() {
        LatencyHistogram histogram = new LatencyHistogram();
        histogram.record(0, 0);
        histogram.record(0, MS);          // exactly 1 ms: still "at most 1 ms"
        histogram.record(0, MS + 1);      // just over: the 2 ms bucket
        histogram.record(0, 10_000 * MS); // exactly the last bound
        histogram.record(0, 10_000 * MS + 1);
        histogram.record(0, Long.MAX_VALUE);

        long[] expected = new long[LatencyHistogram.BOUNDS_MS.size() + 1];
        expected[0] = 2;
        expected[1] = 1;
        expected[LatencyHistogram.BOUNDS_MS.size() - 1] = 1;
        expected[LatencyHistogram.BOUNDS_MS.size()] = 2;
        assertArrayEquals(expected, histogram.counts());
    }

    @Test
    void shouldSumTheRowsOfEveryLoop() {
        LatencyHistogram histogram = new LatencyHistogram();
        for (int loop = 0; loop < ProxyServer.eventLoops(); loop++) {
            histogram.record(loop, 3 * MS);
        }
        long[] expected = new long[LatencyHistogram.BOUNDS_MS.size() + 1];
        expected[LatencyHistogram.BOUNDS_MS.indexOf(5)] = ProxyServer.eventLoops();
        assertArrayEquals(expected, histogram.counts());
    }
}
