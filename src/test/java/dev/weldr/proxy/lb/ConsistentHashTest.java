package dev.weldr.proxy.lb;

import dev.weldr.pool.LbPolicy.HashOn;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsistentHashTest {

    private static final int KEYS = 10_000;

    @Test
    void shouldMapTheSameKeyToTheSameServerWhateverTheOrderOfCandidates() {
        List<TestEndpoint> servers = TestEndpoint.servers(4);
        ConsistentHash<TestEndpoint> ring = byAddress(servers);
        // Another node may list the same servers in another order.
        ConsistentHash<TestEndpoint> other = byAddress(List.of(servers.get(2), servers.get(0), servers.get(3), servers.get(1)));

        Set<TestEndpoint> used = new HashSet<>();
        for (int k = 0; k < 1000; k++) {
            TestEndpoint first = ring.pick(client(k), null);
            used.add(first);
            assertSame(first, ring.pick(client(k), null));
            assertSame(first, other.pick(client(k), null));
        }
        assertEquals(4, used.size());
    }

    @Test
    void shouldRemapAboutAFifthOfKeysAndOnlyToTheNewServerWhenAFifthJoins() {
        List<TestEndpoint> five = TestEndpoint.servers(5);
        TestEndpoint joining = five.get(4);
        ConsistentHash<TestEndpoint> before = byAddress(five.subList(0, 4));
        ConsistentHash<TestEndpoint> after = byAddress(five);

        int moved = 0;
        for (int k = 0; k < KEYS; k++) {
            TestEndpoint was = before.pick(client(k), null);
            TestEndpoint is = after.pick(client(k), null);
            if (was != is) {
                moved++;
                assertSame(joining, is, "a key moves only to the server that joined");
            }
        }

        assertTrue(moved > KEYS * 12 / 100 && moved < KEYS * 30 / 100, moved + " of " + KEYS + " keys moved");
    }

    @Test
    void shouldRemapOnlyTheKeysOfAServerThatLeaves() {
        List<TestEndpoint> five = TestEndpoint.servers(5);
        TestEndpoint leaving = five.get(2);
        List<TestEndpoint> four = new ArrayList<>(five);
        four.remove(leaving);
        ConsistentHash<TestEndpoint> before = byAddress(five);
        ConsistentHash<TestEndpoint> after = byAddress(four);

        int itsKeys = 0;
        for (int k = 0; k < KEYS; k++) {
            TestEndpoint was = before.pick(client(k), null);
            TestEndpoint is = after.pick(client(k), null);
            if (was == leaving) {
                itsKeys++;
            } else {
                assertSame(was, is, "key " + k + " was not on the server that left");
            }
        }
        assertTrue(itsKeys > 0);
    }

    @Test
    void shouldGiveAServerOfTwiceTheWeightTwiceTheKeys() {
        TestEndpoint heavy = new TestEndpoint("10.0.0.1:8080", 2);
        TestEndpoint light = new TestEndpoint("10.0.0.2:8080", 1);
        ConsistentHash<TestEndpoint> ring = byAddress(List.of(heavy, light));

        int onHeavy = 0;
        for (int k = 0; k < KEYS; k++) {
            if (ring.pick(client(k), null) == heavy) {
                onHeavy++;
            }
        }

        double ratio = (double) onHeavy / (KEYS - onHeavy);
        assertTrue(Math.abs(ratio - 2) <= 0.3, "heavy:light = " + ratio);
    }

    @Test
    void shouldStickByHeaderWhateverTheClientAddress() {
        ConsistentHash<TestEndpoint> ring = new ConsistentHash<>(TestEndpoint.servers(4), HashOn.HEADER, "X-User");

        assertSticksByKeyNotAddress(ring, (user, address) -> TestRequest.from(address).withHeader("X-User", user));
    }

    @Test
    void shouldStickByCookieWhateverTheClientAddress() {
        ConsistentHash<TestEndpoint> ring = new ConsistentHash<>(TestEndpoint.servers(4), HashOn.COOKIE, "session");

        assertSticksByKeyNotAddress(ring, (user, address) -> TestRequest.from(address).withCookie("session", user));
    }

    @Test
    void shouldStickByClientAddressWhateverTheHeadersAndCookies() {
        ConsistentHash<TestEndpoint> ring = byAddress(TestEndpoint.servers(4));

        Set<TestEndpoint> used = new HashSet<>();
        for (int k = 0; k < 100; k++) {
            TestEndpoint first = ring.pick(client(k), null);
            used.add(first);
            for (int other = 0; other < 10; other++) {
                RequestKey same = client(k).withHeader("X-User", "u" + other).withCookie("session", "s" + other);
                assertSame(first, ring.pick(same, null));
            }
        }
        assertEquals(4, used.size());
    }

    @Test
    void shouldFallBackToTheClientAddressWhenTheHeaderOrCookieIsMissingOrEmpty() {
        List<TestEndpoint> servers = TestEndpoint.servers(4);
        ConsistentHash<TestEndpoint> byAddress = byAddress(servers);
        ConsistentHash<TestEndpoint> byHeader = new ConsistentHash<>(servers, HashOn.HEADER, "X-User");
        ConsistentHash<TestEndpoint> byCookie = new ConsistentHash<>(servers, HashOn.COOKIE, "session");

        Set<TestEndpoint> used = new HashSet<>();
        for (int k = 0; k < 200; k++) {
            TestEndpoint expected = byAddress.pick(client(k), null);
            used.add(expected);
            assertSame(expected, byHeader.pick(client(k), null));
            assertSame(expected, byHeader.pick(client(k).withHeader("X-User", ""), null));
            assertSame(expected, byHeader.pick(client(k).withHeader("X-Other", "u1"), null));
            assertSame(expected, byCookie.pick(client(k), null));
            assertSame(expected, byCookie.pick(client(k).withCookie("session", ""), null));
        }
        assertEquals(4, used.size(), "the fallback is the address, not one constant key");
    }

    @Test
    void shouldRetryOnTheServerTheKeyWouldMoveToIfTheFailedOneLeft() {
        List<TestEndpoint> servers = TestEndpoint.servers(5);
        ConsistentHash<TestEndpoint> ring = byAddress(servers);

        for (int k = 0; k < 2000; k++) {
            TestEndpoint first = ring.pick(client(k), null);
            List<TestEndpoint> without = new ArrayList<>(servers);
            without.remove(first);

            TestEndpoint retry = ring.pick(client(k), first);

            assertNotSame(first, retry);
            assertSame(byAddress(without).pick(client(k), null), retry, "key " + k);
            assertSame(retry, ring.pick(client(k), new TestEndpoint(first.id())), "excluded by id as well");
        }
    }

    @Test
    void shouldPickNothingWithoutCandidatesOrWhenTheOnlyOneIsExcluded() {
        TestEndpoint only = new TestEndpoint("10.0.0.1:8080", 3);

        assertNull(byAddress(List.of()).pick(client(1), null));
        assertSame(only, byAddress(List.of(only)).pick(client(1), null));
        assertNull(byAddress(List.of(only)).pick(client(1), only));
    }

    @Test
    void shouldBuildARingOfTenThousandServers() {
        List<TestEndpoint> servers = TestEndpoint.servers(10_000);

        ConsistentHash<TestEndpoint> ring = byAddress(servers);

        Set<TestEndpoint> used = new HashSet<>();
        for (int k = 0; k < 1000; k++) {
            TestEndpoint e = ring.pick(client(k), null);
            assertNotNull(e);
            used.add(e);
        }
        assertTrue(used.size() > 900, "1000 keys landed on " + used.size() + " servers");
    }

    private interface Requests {
        RequestKey of(String user, String address);
    }

    /** Each user's requests from ten addresses land together, and the users spread out. */
    private static void assertSticksByKeyNotAddress(ConsistentHash<TestEndpoint> ring, Requests requests) {
        Set<TestEndpoint> used = new HashSet<>();
        for (int user = 0; user < 100; user++) {
            TestEndpoint first = ring.pick(requests.of("user-" + user, address(0)), null);
            used.add(first);
            for (int a = 1; a < 10; a++) {
                assertSame(first, ring.pick(requests.of("user-" + user, address(a * 7919 + user)), null), "user-" + user);
            }
        }
        assertEquals(4, used.size());
    }

    private static ConsistentHash<TestEndpoint> byAddress(List<TestEndpoint> servers) {
        return new ConsistentHash<>(servers, HashOn.CLIENT_ADDRESS, null);
    }

    private static TestRequest client(int k) {
        return TestRequest.from(address(k));
    }

    private static String address(int k) {
        return "198.51." + (k >> 8 & 0xff) + "." + (k & 0xff);
    }
}
