package dev.weldr.proxy.lb;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** {@link RoundRobin}'s rotation, for candidates of equal weight. */
class RotationTest {

    private static final RequestKey REQUEST = TestRequest.from("192.0.2.1");

    @Test
    void shouldGiveEachOfThreeServersExactlyAThirdOfThePicks() {
        List<TestEndpoint> servers = TestEndpoint.servers(3);
        Rotation<TestEndpoint> rr = new Rotation<>(servers, 0);

        Map<TestEndpoint, Integer> counts = new HashMap<>();
        TestEndpoint previous = null;
        for (int i = 0; i < 300; i++) {
            TestEndpoint e = rr.pick(REQUEST, null);
            assertNotEquals(previous, e, "never the same server twice in a row");
            previous = e;
            counts.merge(e, 1, Integer::sum);
        }

        for (TestEndpoint s : servers) {
            assertEquals(100, counts.get(s), s.toString());
        }
    }

    @Test
    void shouldStartAtTheGivenPosition() {
        List<TestEndpoint> servers = TestEndpoint.servers(3);

        assertSame(servers.get(1), new Rotation<>(servers, 1).pick(REQUEST, null));
        assertSame(servers.get(2), new Rotation<>(servers, -1).pick(REQUEST, null));
        assertSame(servers.get(1), new Rotation<>(servers, 7).pick(REQUEST, null));
    }

    @Test
    void shouldNeverPickTheExcludedServerWhenAnotherExists() {
        List<TestEndpoint> servers = TestEndpoint.servers(3);
        TestEndpoint excluded = servers.get(1);
        Rotation<TestEndpoint> rr = new Rotation<>(servers, 0);

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
        Rotation<TestEndpoint> rr = new Rotation<>(servers, 0);

        for (int i = 0; i < 10; i++) {
            assertSame(servers.get(1), rr.pick(REQUEST, failedBeforeRebuild));
        }
    }

    @Test
    void shouldPickNothingWithoutCandidatesOrWhenTheOnlyOneIsExcluded() {
        TestEndpoint only = new TestEndpoint("10.0.0.1:8080");

        assertNull(new Rotation<TestEndpoint>(List.of(), 0).pick(REQUEST, null));
        assertNull(new Rotation<>(List.of(only), 0).pick(REQUEST, only));
        assertSame(only, new Rotation<>(List.of(only), 0).pick(REQUEST, null));
    }
}
