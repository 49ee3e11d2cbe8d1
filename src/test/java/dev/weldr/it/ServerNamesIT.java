package dev.weldr.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Servers given by host name, as containers are (Docker Compose's {@code project_web_1}): weldr
 * looks the names up again while it runs, so a server whose name moves to another address, or did
 * not resolve yet when it was added, is reached without being added again. The weldr process
 * reads its names from a hosts file of the test's ({@code jdk.net.hosts.file}), which the test
 * rewrites; the backends listen on other loopback addresses (127.0.0.2, 127.0.0.3).
 */
class ServerNamesIT {

    @TempDir
    Path dir;

    @RegisterExtension
    final Backends backends = new Backends();

    private WeldrProcess start(Path hosts, String checkInterval) {
        WeldrProcess node = WeldrProcess.create("names", dir.resolve("data"), Map.of(
                "jdk.net.hosts.file", hosts.toString(),
                "weldr.health-check.interval", checkInterval,
                "weldr.health-check.timeout", "150ms"));
        return node.start();
    }

    private static void hosts(Path file, String lines) throws IOException {
        Path next = file.resolveSibling("hosts.next");
        Files.writeString(next, "127.0.0.1 localhost\n" + lines);
        Files.move(next, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void shouldFollowAServerWhoseNameMovesToAnotherAddress() throws Exception {
        int port = WeldrProcess.freePort();
        backends.start("first", "127.0.0.2", port, req -> {
        });
        backends.start("second", "127.0.0.3", port, req -> {
        });
        Path hosts = dir.resolve("hosts");
        hosts(hosts, "127.0.0.2 myapp_web_1\n");
        // Frequent checks: a check that did not reach the name's address would mark it down at once.
        try (WeldrProcess node = start(hosts, "200ms")) {
            HttpResponse<String> added = node.post("/servers", "{\"url\":\"http://myapp_web_1:" + port + "\"}");
            assertEquals(201, added.statusCode(), added.body());
            assertEquals("first", node.proxyGet("/").body());

            hosts(hosts, "127.0.0.3 myapp_web_1\n");
            long moved = System.nanoTime();
            WeldrProcess.await(Duration.ofSeconds(30), () -> "second".equals(node.proxyGet("/").body()),
                    "requests to reach the name's new address");
            long seconds = (System.nanoTime() - moved) / 1_000_000_000L;
            assertTrue(seconds <= 15, "the move was seen after " + seconds + " s: more than the 5 s lookups and 5 s JVM cache allow");
            for (int i = 0; i < 5; i++) {
                assertEquals("second", node.proxyGet("/").body(), "no request goes back to the old address");
            }
            assertTrue(node.stdout().contains("server myapp_web_1:" + port + " of pool default now resolves to 127.0.0.3 (was 127.0.0.2)"),
                    node.stdout());
            // The health checks probe the address the traffic goes to: the server never went down.
            assertTrue(node.get("/servers").body().contains("\"state\":\"active\""), node.get("/servers").body());
            assertTrue(!node.stdout().contains("is down"), node.stdout());
        }
    }

    @Test
    void shouldReachAServerWhoseNameDidNotResolveWhenItWasAdded() throws Exception {
        int port = backends.start("later", "127.0.0.2", 0, req -> {
        });
        Path hosts = dir.resolve("hosts");
        hosts(hosts, "");
        // Checks every second: the failed requests below get the server ejected before checks mark it down.
        try (WeldrProcess node = start(hosts, "1s")) {
            HttpResponse<String> added = node.post("/servers", "{\"url\":\"http://api_later:" + port + "\"}");
            assertEquals(201, added.statusCode(), added.body());
            for (int i = 0; i < 5; i++) {
                int before = node.proxyGet("/").statusCode();
                assertTrue(before == 502 || before == 503, "no address yet: " + before);
            }
            WeldrProcess.await(Duration.ofSeconds(5), () -> node.stdout().contains("server api_later:" + port
                    + " of pool default ejected"), "the server to be ejected for its failures");

            hosts(hosts, "127.0.0.2 api_later\n");
            WeldrProcess.await(Duration.ofSeconds(30), () -> "later".equals(node.proxyGet("/").body()),
                    "requests to reach the server once its name resolves");
            assertTrue(node.stdout().contains("server api_later:" + port + " of pool default now resolves to 127.0.0.2 (was unresolved)"),
                    node.stdout());
            // The failed requests before had it ejected (passive checks): the new address readmitted it.
            assertTrue(node.stdout().contains("server api_later:" + port + " of pool default readmitted: it has a new address"),
                    node.stdout());
        }
    }
}
