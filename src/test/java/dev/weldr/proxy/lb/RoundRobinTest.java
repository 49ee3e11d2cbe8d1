package dev.weldr.proxy.lb;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RoundRobinTest {

    private static final RequestKey REQUEST = TestRequest.from("192.0.2.1");

    @Test
    void shouldSplitPicksThreeToOneOver4000Picks() {
        for (long seed = 0; seed < 20; seed++) {
            List<TestEndpoint> servers = weighted(3, 1);

            int[] counts = countPicks(balancer(servers, seed), servers, 4000);

            // Every whole cycle of four picks is exact; the issue asks for ±5 %.
            assertEquals(3000, counts[0], "seed " + seed);
            assertEquals(1000, counts[1], "seed " + seed);
        }
    }

    @Test
    void shouldGiveEachServerExactlyItsWeightInEveryCycle() {
        for (int[] weights : new int[][] {{5, 1, 1}, {4, 3, 2, 1}, {7, 3}, {1, 1, 10, 1}, {1000, 1, 999, 2}}) {
            List<TestEndpoint> servers = weighted(weights);
            int total = Arrays.stream(weights).sum();
            RoundRobin<TestEndpoint> rr = balancer(servers, 42);
            for (int cycle = 0; cycle < 5; cycle++) {
                assertEquals(Arrays.toString(weights), Arrays.toString(countPicks(rr, servers, total)),
                        "cycle " + cycle);
            }
        }
    }

    @Test
    void shouldInterleaveAHeavyServerWithTheOthersInsteadOfSendingItsShareInARun() {
        for (long seed = 0; seed < 50; seed++) {
            // nginx's smooth weighted round-robin gives aabacaa aabacaa: runs of at most four.
            assertTrue(longestRun(weighted(5, 1, 1), seed, 70) <= 4, "5,1,1 seed " + seed);
            // 3:1 can do no better than aaab.
            assertTrue(longestRun(weighted(3, 1), seed, 40) <= 3, "3,1 seed " + seed);
            assertTrue(longestRun(weighted(1, 1, 1), seed, 30) == 1, "equal weights alternate, seed " + seed);
        }
    }

    @Test
    void shouldNeverPutAServerMoreThanOnePickAwayFromItsShare() {
        for (int[] weights : new int[][] {{5, 1, 1}, {4, 3, 2, 1}, {7, 3}, {1, 1, 10, 1}}) {
            List<TestEndpoint> servers = weighted(weights);
            RoundRobin<TestEndpoint> rr = balancer(servers, 7);
            int total = Arrays.stream(weights).sum();
            int[] counts = new int[weights.length];
            for (int t = 1; t <= 1000; t++) {
                counts[servers.indexOf(rr.pick(REQUEST, null))]++;
                for (int i = 0; i < weights.length; i++) {
                    // |counts[i] - t * w / total| < 2, without rounding
                    long off = (long) counts[i] * total - (long) t * weights[i];
                    assertTrue(Math.abs(off) < 2L * total,
                            "server " + i + " of " + Arrays.toString(weights) + " after " + t + " picks");
                }
            }
        }
    }

    @Test
    void shouldStartBalancersBuiltTogetherAtDifferentServers() {
        for (List<TestEndpoint> servers : List.of(TestEndpoint.servers(3), weighted(2, 1, 1))) {
            Set<TestEndpoint> firsts = new HashSet<>();
            for (int i = 0; i < 200; i++) {
                firsts.add(RoundRobin.create(servers).pick(REQUEST, null));
            }

            assertEquals(Set.copyOf(servers), firsts);
        }
    }

    @Test
    void shouldRotateWhenEveryWeightIsTheSame() {
        assertInstanceOf(Rotation.class, RoundRobin.create(weighted(4, 4, 4)));
        assertInstanceOf(Rotation.class, RoundRobin.create(weighted(1, 0, -3)), "a weight below one counts as one");
        assertInstanceOf(RoundRobin.class, RoundRobin.create(weighted(4, 4, 5)));
    }

    @Test
    void shouldReadWeightsWhenBuilt() {
        List<TestEndpoint> servers = weighted(3, 1);
        RoundRobin<TestEndpoint> before = balancer(servers, 1);

        servers.get(1).weight = 3;

        assertEquals(300, countPicks(before, servers, 400)[0], "weights are read when the balancer is built");
        int[] rebuilt = countPicks(balancer(servers, 1), servers, 400);
        assertEquals(200, rebuilt[0]);
        assertEquals(200, rebuilt[1]);
    }

    @Test
    void shouldTreatAWeightBelowOneAsOne() {
        List<TestEndpoint> servers = weighted(0, -4, 1);

        assertEquals("[100, 100, 100]", Arrays.toString(countPicks(balancer(servers, 3), servers, 300)));
    }

    @Test
    void shouldLeaveTheExcludedServerOutAndKeepTheOthersInProportion() {
        for (int excludedIndex = 0; excludedIndex < 3; excludedIndex++) {
            List<TestEndpoint> servers = weighted(3, 2, 1);
            RoundRobin<TestEndpoint> rr = balancer(servers, excludedIndex);
            TestEndpoint excluded = servers.get(excludedIndex);

            Map<TestEndpoint, Integer> counts = new HashMap<>();
            for (int i = 0; i < 600; i++) {
                TestEndpoint e = rr.pick(REQUEST, excluded);
                assertNotEquals(excluded, e);
                counts.merge(e, 1, Integer::sum);
            }

            int[] weights = {3, 2, 1};
            int others = 6 - weights[excludedIndex];
            for (int i = 0; i < 3; i++) {
                if (i != excludedIndex) {
                    assertEquals(600 * weights[i] / others, counts.get(servers.get(i)), "server " + i + " of 3,2,1 excluding " + excludedIndex);
                }
            }
        }
    }

    @Test
    void shouldRecogniseTheExcludedServerByIdAfterARebuild() {
        List<TestEndpoint> servers = TestEndpoint.servers(2);
        TestEndpoint failedBeforeRebuild = new TestEndpoint(servers.get(0).id());
        RoundRobin<TestEndpoint> rr = balancer(servers, 0);

        for (int i = 0; i < 10; i++) {
            assertSame(servers.get(1), rr.pick(REQUEST, failedBeforeRebuild));
        }
    }

    @Test
    void shouldPickNothingWithoutCandidatesOrWhenTheOnlyOneIsExcluded() {
        TestEndpoint only = new TestEndpoint("10.0.0.1:8080", 4);

        assertNull(RoundRobin.<TestEndpoint>create(List.of()).pick(REQUEST, null));
        assertNull(RoundRobin.create(List.of(only)).pick(REQUEST, only));
        assertSame(only, RoundRobin.create(List.of(only)).pick(REQUEST, null));
    }

    @Test
    void shouldPickAmong10000WeightedServersWithLogarithmicallyManyComparisons() {
        List<TestEndpoint> servers = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            servers.add(new TestEndpoint("10.1." + (i / 250) + "." + (i % 250 + 1) + ":8080", 1 + i % 1000));
        }
        RoundRobin<TestEndpoint> rr = balancer(servers, 5);
        assertTrue(rr.comparisons <= 2 * 10_000, "building the heap is linear: " + rr.comparisons);

        rr.comparisons = 0;
        int picks = 100_000;
        TestEndpoint excluded = servers.get(0);
        for (int i = 0; i < picks; i++) {
            rr.pick(REQUEST, i % 10 == 0 ? excluded : null);
        }

        // A sift down a heap of 10,000 passes 13 levels at two comparisons each (plus one to
        // find the next earliest when the earliest is excluded); a scan would make 10,000.
        int depth = 32 - Integer.numberOfLeadingZeros(10_000);
        assertTrue(rr.comparisons <= (long) picks * (2 * depth + 1),
                rr.comparisons / picks + " comparisons per pick for a depth of " + depth);
    }

    @Test
    void shouldKeepTheOrderWhenDeadlinesWrapAroundTheLongRange() {
        List<TestEndpoint> servers = weighted(2, 1);
        RoundRobin<TestEndpoint> rr = balancer(servers, 9);
        // The light server's deadline moves by a whole cycle (2^40 ticks) per pick, so it passes
        // Long.MAX_VALUE after 2^23 of its picks; go well past that.
        int cycles = (1 << 23) + 1000;
        int heavy = 0;
        for (int c = 0; c < cycles; c++) {
            for (int i = 0; i < 3; i++) {
                if (rr.pick(REQUEST, null) == servers.get(0)) {
                    heavy++;
                }
            }
            if (heavy != 2 * (c + 1)) {
                throw new AssertionError("cycle " + c + ": the heavy server got " + heavy + " picks");
            }
        }
    }

    private static int longestRun(List<TestEndpoint> servers, long seed, int picks) {
        RoundRobin<TestEndpoint> rr = balancer(servers, seed);
        int longest = 0;
        int run = 0;
        TestEndpoint previous = null;
        for (int i = 0; i < picks; i++) {
            TestEndpoint e = rr.pick(REQUEST, null);
            run = e == previous ? run + 1 : 1;
            longest = Math.max(longest, run);
            previous = e;
        }
        return longest;
    }

    private static RoundRobin<TestEndpoint> balancer(List<TestEndpoint> servers, long seed) {
        return new RoundRobin<>(servers, new SplittableRandom(seed));
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
