package dev.weldr.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A single node as a real process: the README's quick start, and a pool that survives restarts. */
class NodeLifecycleIT {

    @TempDir
    Path data;
    @RegisterExtension
    final Backends backends = new Backends();
    private WeldrProcess node;

    @AfterEach
    void tearDown() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void shouldServeTheQuickStartFromAddToDelete() {
        node = WeldrProcess.create("quickstart", data, Map.of()).start();
        int port = backends.start("hello from the backend");
        HttpResponse<String> added = node.post("/servers", "{\"url\":\"http://127.0.0.1:" + port + "\"}");
        assertEquals(201, added.statusCode(), added.body());
        assertEquals("/servers/127.0.0.1/" + port, added.headers().firstValue("Location").orElse(""));

        HttpResponse<String> proxied = node.proxyGet("/");
        assertEquals(200, proxied.statusCode());
        assertEquals("hello from the backend", proxied.body());

        assertEquals(204, node.delete("/servers/127.0.0.1/" + port).statusCode());
        assertEquals(503, node.proxyGet("/").statusCode());
    }

    @Test
    void shouldKeepThePoolAcrossAGracefulRestart() {
        node = WeldrProcess.create("restart", data, Map.of()).start();
        Set<String> names = addBackends(3);
        node.stop();

        node = node.again("restart-again").start();
        WeldrProcess.await(Duration.ofSeconds(20), node::ready, "the restarted node to be leader again");
        assertPoolServes(names);
    }

    @Test
    void shouldNeverLoseAnAcknowledgedChangeWhenKilled() {
        node = WeldrProcess.create("kill", data, Map.of()).start();
        Set<String> names = addBackends(5);
        node.kill();

        node = node.again("kill-again").start();
        WeldrProcess.await(Duration.ofSeconds(20), node::ready, "the restarted node to be leader again");
        assertPoolServes(names);
    }

    private Set<String> addBackends(int n) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < n; i++) {
            String name = "backend-" + i;
            int port = backends.start(name);
            HttpResponse<String> added = node.post("/servers", "{\"url\":\"http://127.0.0.1:" + port + "\"}");
            assertEquals(201, added.statusCode(), added.body());
            names.add(name);
        }
        return names;
    }

    private void assertPoolServes(Set<String> names) {
        String servers = node.get("/servers").body();
        assertEquals(names.size(), servers.split("\"state\":\"active\"", -1).length - 1, servers);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < names.size() * 2; i++) {
            HttpResponse<String> r = node.proxyGet("/");
            assertEquals(200, r.statusCode(), r.body());
            seen.add(r.body());
        }
        assertEquals(names, seen, "round-robin over the restored pool reaches every backend");
    }
}
