package dev.weldr.proxy.lb;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LeastRequestsTest {

    private static final RequestKey REQUEST = TestRequest.from("192.0.2.1");

    @Test
    void shouldSendFarFewerRequestsToAServerWithManyInFlight() {
        List<TestEndpoint> servers = TestEndpoint.servers(3);
        servers.get(0).inFlight = 50;

        int[] counts = countPicks(balancer(servers), servers, 1000);

        assertTrue(counts[0] < 100, "the busy server got " + counts[0] + " of 1000");
        assertTrue(counts[1] > 400 && counts[2] > 400, "the idle ones share the rest: " + counts[1] + ", " + counts[2]);
    }

    @Test
    void shouldSpreadEvenlyWhenTheLoadIsEqual() {
        List<TestEndpoint> servers = TestEndpoint.servers(3);
        for (TestEndpoint s : servers) {
            s.inFlight = 7;
        }

        int[] counts = countPicks(balancer(servers), servers, 3000);

        for (int i = 0; i < 3; i++) {
            assertTrue(Math.abs(counts[i] - 1000) < 100, "server " + i + " got " + counts[i] + " of 3000");
        }
    }

    @Test
    void shouldFollowTheLoadAsItChanges() {
        List<TestEndpoint> servers = TestEndpoint.servers(2);
        LeastRequests<TestEndpoint> lr = balancer(servers);

        servers.get(0).inFlight = 3;
        assertSame(servers.get(1), lr.pick(REQUEST, null));
        servers.get(1).inFlight = 4;
        assertSame(servers.get(0), lr.pick(REQUEST, null));
    }

    @Test
    void shouldCompareLoadPerUnitOfWeight() {
        List<TestEndpoint> servers = List.of(new TestEndpoint("10.0.0.1:8080", 3), new TestEndpoint("10.0.0.2:8080", 1));
        TestEndpoint heavy = servers.get(0);
        TestEndpoint light = servers.get(1);

        // (in-flight + 1) / weight: 1/3 against 1/1 while both are idle.
        assertSame(heavy, balancer(servers).pick(REQUEST, null));
        heavy.inFlight = 5;
        light.inFlight = 2;
        assertSame(heavy, balancer(servers).pick(REQUEST, null), "6/3 against 3/1");
        heavy.inFlight = 9;
        assertSame(light, balancer(servers).pick(REQUEST, null), "10/3 against 3/1");
    }

    @Test
    void shouldReturnTheOnlyCandidateHoweverBusy() {
        TestEndpoint only = new TestEndpoint("10.0.0.1:8080");
        only.inFlight = 1000;

        assertSame(only, balancer(List.of(only)).pick(REQUEST, null));
    }

    @Test
    void shouldNeverPickTheExcludedServerEvenWhenItIsTheLeastLoaded() {
        List<TestEndpoint> servers = TestEndpoint.servers(3);
        servers.get(0).inFlight = 10;
        servers.get(2).inFlight = 10;
        TestEndpoint excluded = servers.get(1);
        LeastRequests<TestEndpoint> lr = balancer(servers);

        int[] counts = new int[3];
        for (int i = 0; i < 1000; i++) {
            counts[servers.indexOf(lr.pick(REQUEST, excluded))]++;
        }

        assertEquals(0, counts[1]);
        assertTrue(counts[0] > 400 && counts[2] > 400, counts[0] + ", " + counts[2]);
    }

    @Test
    void shouldPickTheOtherOfTwoWhenOneIsExcluded() {
        List<TestEndpoint> servers = TestEndpoint.servers(2);
        servers.get(1).inFlight = 100;
        LeastRequests<TestEndpoint> lr = balancer(servers);

        assertSame(servers.get(1), lr.pick(REQUEST, servers.get(0)));
        assertSame(servers.get(0), lr.pick(REQUEST, servers.get(1)));
    }

    @Test
    void shouldPickNothingWithoutCandidatesOrWhenTheOnlyOneIsExcluded() {
        TestEndpoint only = new TestEndpoint("10.0.0.1:8080");

        assertNull(LeastRequests.<TestEndpoint>create(List.of()).pick(REQUEST, null));
        assertNull(balancer(List.of(only)).pick(REQUEST, only));
    }

    private static LeastRequests<TestEndpoint> balancer(List<TestEndpoint> servers) {
        return new LeastRequests<>(servers, new SplittableRandom(42));
    }

    private static int[] countPicks(LoadBalancer<TestEndpoint> lb, List<TestEndpoint> servers, int picks) {
        int[] counts = new int[servers.size()];
        for (int i = 0; i < picks; i++) {
            counts[servers.indexOf(lb.pick(REQUEST, null))]++;
        }
        return counts;
    }
}
