package dev.weldr.proxy;

import dev.weldr.pool.Route;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The route index answers what the rule of {@link Route} says, checked against that rule written
 * the plain way (every route looked at, strings compared): on chosen cases, then on random routes
 * and requests, ties, ports, letter case, IPv6 and absolute forms included.
 */
class RouteIndexTest {

    private static final String DEFAULT = "default";

    @Test
    void shouldRouteByLongestPrefixWithTheHostBreakingTies() {
        List<Route> routes = List.of(
                new Route("r1", "", "/api", "a"),
                new Route("r2", "", "/api/v2", "b"),
                new Route("r3", "Shop.Example", "/api", "c"),
                new Route("r4", "shop.example", "/", "d"));
        RouteIndex index = RouteIndex.of(routes);
        assertEquals("a", pool(index, "other.example", "/api/users"));
        assertEquals("b", pool(index, "other.example", "/api/v2/users"));
        assertEquals("c", pool(index, "shop.example", "/api/users"), "same prefix: the route naming the host wins");
        assertEquals("c", pool(index, "SHOP.example:8080", "/api/users"), "the host without port, any case");
        assertEquals("b", pool(index, "shop.example", "/api/v2/x"), "a longer prefix wins over the host");
        assertEquals("d", pool(index, "shop.example", "/cart"));
        assertEquals(DEFAULT, pool(index, "other.example", "/cart"));
        assertEquals(DEFAULT, pool(index, "other.example", "/ap"));
        assertEquals("a", pool(index, "other.example", "/api?x=/api/v2"), "the query is not the path");
    }

    @Test
    void shouldTakeTheFirstOfTwoRoutesWithTheSameHostAndPrefix() {
        RouteIndex index = RouteIndex.of(List.of(new Route("x", "", "/a", "first"), new Route("y", "", "/a", "second"),
                new Route("z", "h", "/a", "third"), new Route("w", "h", "/a", "fourth")));
        assertEquals("first", pool(index, "g", "/a/b"));
        assertEquals("third", pool(index, "h", "/a/b"));
    }

    @Test
    void shouldAnswerAsTheRuleOnRandomRoutesAndRequests() {
        Random random = new Random(20261203);
        String[] hosts = {"", "a.test", "b.test", "Shop.Example", "::1", "xn--bcher-kva.test"};
        for (int round = 0; round < 300; round++) {
            List<Route> routes = new ArrayList<>();
            int n = 1 + random.nextInt(random.nextBoolean() ? 6 : 40);
            for (int i = 0; i < n; i++) {
                routes.add(new Route("r" + i, hosts[random.nextInt(hosts.length)], "/" + word(random, 4), "p" + random.nextInt(6)));
            }
            RouteIndex index = RouteIndex.of(routes);
            for (int q = 0; q < 200; q++) {
                String host = hosts[random.nextInt(hosts.length)];
                String path = "/" + word(random, 6) + (random.nextInt(4) == 0 ? "?" + word(random, 3) : "");
                HttpHead head = head(random, host, path);
                assertEquals(reference(routes, HttpWireTest.routeHost(head), HttpWireTest.path(head)), pool(index, head),
                        () -> "routes " + routes + ", request " + new String(head.b, StandardCharsets.ISO_8859_1));
            }
        }
    }

    /** The rule as the routes' documentation states it, with nothing indexed. */
    private static String reference(List<Route> routes, String host, String path) {
        Route best = null;
        for (Route r : routes) {
            boolean matches = (r.host().isEmpty() || r.host().equals(host)) && path.startsWith(r.pathPrefix());
            if (matches && (best == null
                    || r.pathPrefix().length() > best.pathPrefix().length()
                    || r.pathPrefix().length() == best.pathPrefix().length() && best.host().isEmpty() && !r.host().isEmpty())) {
                best = r;
            }
        }
        return best == null ? DEFAULT : best.pool();
    }

    /** A request for this host and path, in one of the forms a client may send it. */
    private static HttpHead head(Random random, String host, String path) {
        String written = random.nextBoolean() ? host.toUpperCase() : host;
        if (host.contains(":")) {
            written = "[" + written + "]";
        }
        if (random.nextBoolean() && !host.isEmpty()) {
            written += ":" + (1 + random.nextInt(65535));
        }
        String text;
        if (host.isEmpty()) {
            text = "GET " + path + " HTTP/1.0\r\n\r\n";
        } else if (random.nextInt(3) == 0) {
            // Absolute form, sometimes without a path before the query ("http://a.test?x").
            String target = path.startsWith("/?") && random.nextBoolean() ? path.substring(1) : path;
            text = "GET http://" + written + target + " HTTP/1.1\r\nHost: other.test\r\n\r\n";
        } else {
            text = "GET " + path + " HTTP/1.1\r\nHost: " + written + "\r\n\r\n";
        }
        HttpHead h = new HeadScanner(true).next(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
        assertNotNull(h);
        return h;
    }

    private static String word(Random random, int maxLength) {
        StringBuilder sb = new StringBuilder();
        int n = random.nextInt(maxLength + 1);
        for (int i = 0; i < n; i++) {
            sb.append("ab/".charAt(random.nextInt(3)));
        }
        return sb.toString();
    }

    private static String pool(RouteIndex index, String host, String path) {
        return pool(index, new HeadScanner(true).next(Unpooled.copiedBuffer(
                "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n", StandardCharsets.ISO_8859_1)));
    }

    private static String pool(RouteIndex index, HttpHead head) {
        int slot = index.find(head);
        return slot < 0 ? DEFAULT : index.slots.get(slot).pool();
    }
}
