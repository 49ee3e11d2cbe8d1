package dev.weldr.admin;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The path a follower sends a call on with: each decoded segment encoded whole. */
class LeaderRoutePathTest {

    @Test
    void shouldKeepEachNameInItsOwnSegment() {
        assertEquals("/routes/..%2Fpools%2Fapi", LeaderRoute.path("routes", "../pools/api"));
        assertEquals("/routes/api%3Fx", LeaderRoute.path("routes", "api?x"));
        assertEquals("/routes/api%23x", LeaderRoute.path("routes", "api#x"));
        assertEquals("/pools/%7Bx%7D/servers", LeaderRoute.path("pools", "{x}", "servers"));
        assertEquals("/servers/100%25/80", LeaderRoute.path("servers", "100%", "80"));
        assertEquals("/servers/caf%C3%A9/80", LeaderRoute.path("servers", "café", "80"));
        assertEquals("/servers/%5B%3A%3A1%5D/80", LeaderRoute.path("servers", "[::1]", "80"));
    }

    @Test
    void shouldLeaveUnreservedCharactersAsTheyAre() {
        assertEquals("/routes/...", LeaderRoute.path("routes", "..."));
        assertEquals("/pools/a-b_c.d~e/servers/10.0.0.1/8080", LeaderRoute.path("pools", "a-b_c.d~e", "servers", "10.0.0.1", "8080"));
    }

    @Test
    void shouldRefuseASegmentThePathNormalisationWouldRemove() {
        for (String segment : new String[] {".", "..", ""}) {
            ApiException e = assertThrows(ApiException.class, () -> LeaderRoute.path("routes", segment));
            assertEquals(404, e.status(), segment);
        }
    }
}
