package dev.weldr.proxy.lb;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class RoundRobinTest {

    private static final RequestKey REQUEST = TestRequest.from("192.0.2.1");

    @Test
    void shouldGiveEachOfThreeServersExactlyAThirdOfThePicks() {
        List<TestEndpoint> servers = TestEndpoint.servers(3);
        servers.get(0).weight = 5;
        RoundRobin<TestEndpoint> rr = new RoundRobin<>(servers, 0);

        Map<TestEndpoint, Integer> counts = new HashMap<>();
        TestEndpoint previous = null;
        for (int i = 0; i < 300; i++) {
            TestEndpoint e = rr.pick(REQUEST, null);
            assertNotEquals(previous, e, "never the same server twice in a row");
            previous = e;
            counts.merge(e, 1, Integer::sum);
        }

        for (TestEndpoint s : servers) {
            assertEquals(100, counts.get(s), s + " (weights are ignored)");
        }
    }

    @Test
    void shouldStartAtTheGivenPosition() {
        List<TestEndpoint> servers = TestEndpoint.servers(3);

        assertSame(servers.get(1), new RoundRobin<>(servers, 1).pick(REQUEST, null));
        assertSame(servers.get(2), new RoundRobin<>(servers, -1).pick(REQUEST, null));
        assertSame(servers.get(1), new RoundRobin<>(servers, 7).pick(REQUEST, null));
    }

    @Test
    void shouldStartBalancersBuiltTogetherAtDifferentServers() {
        List<TestEndpoint> servers = TestEndpoint.servers(3);

        Set<TestEndpoint> firsts = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            firsts.add(RoundRobin.create(servers).pick(REQUEST, null));
        }

        assertEquals(Set.copyOf(servers), firsts);
    }

    @Test
    void shouldNeverPickTheExcludedServerWhenAnotherExists() {
        List<TestEndpoint> servers = TestEndpoint.servers(3);
        TestEndpoint excluded = servers.get(1);
        RoundRobin<TestEndpoint> rr = new RoundRobin<>(servers, 0);

        Map<TestEndpoint, Integer> counts = new HashMap<>();
        for (int i = 0; i < 300; i++) {
            counts.merge(rr.pick(REQUEST, excluded), 1, Integer::sum);
        }

        assertEquals(Map.of(servers.get(0), 150, servers.get(2), 150), counts);
    }

    @Test
    void shouldRecogniseTheExcludedServerByIdAfterARebuild() {
        List<TestEndpoint> servers = TestEndpoint.servers(2);
        TestEndpoint failedBeforeRebuild = new TestEndpoint(servers.get(0).id());
        RoundRobin<TestEndpoint> rr = new RoundRobin<>(servers, 0);

        for (int i = 0; i < 10; i++) {
            assertSame(servers.get(1), rr.pick(REQUEST, failedBeforeRebuild));
        }
    }

    @Test
    void shouldPickNothingWithoutCandidatesOrWhenTheOnlyOneIsExcluded() {
        TestEndpoint only = new TestEndpoint("10.0.0.1:8080");

        assertNull(new RoundRobin<TestEndpoint>(List.of(), 0).pick(REQUEST, null));
        assertNull(RoundRobin.<TestEndpoint>create(List.of()).pick(REQUEST, null));
        assertNull(new RoundRobin<>(List.of(only), 0).pick(REQUEST, only));
        assertSame(only, new RoundRobin<>(List.of(only), 0).pick(REQUEST, null));
    }
}
