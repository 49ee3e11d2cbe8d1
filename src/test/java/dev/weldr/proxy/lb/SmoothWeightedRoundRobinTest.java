package dev.weldr.proxy.lb;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SmoothWeightedRoundRobinTest {

    private static final RequestKey REQUEST = TestRequest.from("192.0.2.1");

    @Test
    void shouldSplitPicksThreeToOneWithinFivePerCentOver4000Picks() {
        List<TestEndpoint> servers = weighted(3, 1);

        int[] counts = countPicks(new SmoothWeightedRoundRobin<>(servers), servers, 4000);

        // The issue asks for ±5 %; over whole cycles the split is exact.
        assertEquals(3000, counts[0]);
        assertEquals(1000, counts[1]);
    }

    @Test
    void shouldInterleavePicksLikeNginxForWeightsFiveOneOne() {
        List<TestEndpoint> servers = weighted(5, 1, 1);
        SmoothWeightedRoundRobin<TestEndpoint> wrr = new SmoothWeightedRoundRobin<>(servers);

        StringBuilder sequence = new StringBuilder();
        for (int i = 0; i < 14; i++) {
            sequence.append((char) ('a' + servers.indexOf(wrr.pick(REQUEST, null))));
        }

        assertEquals("aabacaa" + "aabacaa", sequence.toString());
    }

    @Test
    void shouldNeverPutAServerAWholePickAheadOfItsShare() {
        for (int[] weights : new int[][] {{5, 1, 1}, {4, 3, 2, 1}, {7, 3}, {1, 1, 10, 1}}) {
            List<TestEndpoint> servers = weighted(weights);
            SmoothWeightedRoundRobin<TestEndpoint> wrr = new SmoothWeightedRoundRobin<>(servers);
            int total = 0;
            for (int w : weights) {
                total += w;
            }
            int[] counts = new int[weights.length];
            for (int t = 1; t <= 1000; t++) {
                counts[servers.indexOf(wrr.pick(REQUEST, null))]++;
                for (int i = 0; i < weights.length; i++) {
                    // counts[i] < t * w / total + 1, without rounding
                    assertTrue((long) counts[i] * total < (long) t * weights[i] + total,
                            "server " + i + " of " + Arrays.toString(weights) + " after " + t + " picks");
                }
            }
        }
    }

    @Test
    void shouldApplyAWeightChangeOnRebuild() {
        List<TestEndpoint> servers = weighted(3, 1);
        SmoothWeightedRoundRobin<TestEndpoint> before = new SmoothWeightedRoundRobin<>(servers);

        servers.get(1).weight = 3;

        int[] unchanged = countPicks(before, servers, 400);
        assertEquals(300, unchanged[0], "weights are read when the balancer is built");
        int[] rebuilt = countPicks(new SmoothWeightedRoundRobin<>(servers), servers, 400);
        assertEquals(200, rebuilt[0]);
        assertEquals(200, rebuilt[1]);
    }

    @Test
    void shouldTreatAWeightBelowOneAsOne() {
        List<TestEndpoint> servers = weighted(0, -4, 1);

        int[] counts = countPicks(new SmoothWeightedRoundRobin<>(servers), servers, 300);

        assertEquals(100, counts[0]);
        assertEquals(100, counts[1]);
        assertEquals(100, counts[2]);
    }

    @Test
    void shouldLeaveTheExcludedServerOutAndKeepTheOthersInProportion() {
        List<TestEndpoint> servers = weighted(3, 2, 1);
        SmoothWeightedRoundRobin<TestEndpoint> wrr = new SmoothWeightedRoundRobin<>(servers);
        TestEndpoint excluded = servers.get(0);

        int[] counts = new int[3];
        for (int i = 0; i < 300; i++) {
            counts[servers.indexOf(wrr.pick(REQUEST, excluded))]++;
        }

        assertEquals(0, counts[0]);
        assertEquals(200, counts[1]);
        assertEquals(100, counts[2]);
    }

    @Test
    void shouldPickNothingWithoutCandidatesOrWhenTheOnlyOneIsExcluded() {
        TestEndpoint only = new TestEndpoint("10.0.0.1:8080", 4);

        assertNull(new SmoothWeightedRoundRobin<TestEndpoint>(List.of()).pick(REQUEST, null));
        assertNull(new SmoothWeightedRoundRobin<>(List.of(only)).pick(REQUEST, only));
        assertSame(only, new SmoothWeightedRoundRobin<>(List.of(only)).pick(REQUEST, null));
    }

    private static List<TestEndpoint> weighted(int... weights) {
        List<TestEndpoint> servers = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            servers.add(new TestEndpoint("10.0.0." + (i + 1) + ":8080", weights[i]));
        }
        return servers;
    }

    private static int[] countPicks(LoadBalancer<TestEndpoint> lb, List<TestEndpoint> servers, int picks) {
        int[] counts = new int[servers.size()];
        for (int i = 0; i < picks; i++) {
            counts[servers.indexOf(lb.pick(REQUEST, null))]++;
        }
        return counts;
    }
}
