package dev.weldr.it;

import dev.weldr.tls.TestCertificates;
import dev.weldr.tls.TlsClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three nodes whose admin API speaks HTTPS only, with the cluster's certificates, and named
 * tokens from a file: a follower refuses a write made with a read token by itself, forwards one
 * made with an admin token to the leader over TLS, and a token removed from the file stops
 * working on every node without a restart; a fourth node joins through the leader's https URL.
 */
class ScopedTokensIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String OPS = "ops-0123456789abcdef";
    private static final String GRAFANA = "grafana-0123456789abcdef";
    private static final String CI = "ci-0123456789abcdef";
    private static final String JOIN = "join-0123456789abcdef";

    @TempDir
    Path dir;
    @RegisterExtension
    final Backends backends = new Backends();
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void shouldCheckTheScopeOnFollowerAndLeaderOverTlsAndForgetARemovedTokenWithoutRestart() throws Exception {
        TestCertificates.Issued ca = TestCertificates.ca("weldr test cluster CA");
        TestCertificates.Issued node = TestCertificates.server(ca, List.of("localhost"), List.of("127.0.0.1"));
        Files.writeString(dir.resolve("ca.pem"), TestCertificates.pem(ca.certificate()));
        Files.writeString(dir.resolve("node.crt"), node.chainPem());
        Files.writeString(dir.resolve("node.key"), node.keyPem());
        Path tokens = dir.resolve("tokens");
        write(tokens, "ops:admin:" + OPS + "\ngrafana:read:" + GRAFANA + "\nci:admin:" + CI + "\n");

        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("weldr.raft.election-timeout", "1s");
        settings.put("weldr.admin.tokens-file", tokens.toString());
        // What a node presents when it joins, so the same on every node.
        settings.put("weldr.admin.token", JOIN);
        settings.put("weldr.admin.tokens-reload-interval", "300ms");
        settings.put("weldr.cluster.tls.cert", dir.resolve("node.crt").toString());
        settings.put("weldr.cluster.tls.key", dir.resolve("node.key").toString());
        settings.put("weldr.cluster.tls.ca", dir.resolve("ca.pem").toString());
        settings.put("quarkus.tls.admin.key-store.pem.0.cert", dir.resolve("node.crt").toString());
        settings.put("quarkus.tls.admin.key-store.pem.0.key", dir.resolve("node.key").toString());
        settings.put("quarkus.http.tls-configuration-name", "admin");
        settings.put("quarkus.http.insecure-requests", "disabled");
        cluster = new TestCluster(dir, 3, settings);
        cluster.nodes.forEach(n -> n.overHttps(TlsClient.trusting(ca.certificate())));
        cluster.start();

        WeldrProcess leader = awaitLeader();
        for (WeldrProcess n : cluster.nodes) {
            WeldrProcess.await(WAIT, () -> call(n, "GET", "/cluster", null, GRAFANA).body()
                    .contains("\"admin\":\"https://127.0.0.1:" + leader.adminPort + "\""), n.raftId() + " to know the leader's https URL");
        }
        WeldrProcess follower = cluster.followers(leader).get(0);
        int one = backends.start("one");
        String server = "{\"url\":\"http://127.0.0.1:" + one + "\"}";

        // A read token reads anywhere, and a follower refuses its write itself: nothing changes.
        assertEquals(200, call(follower, "GET", "/servers", null, GRAFANA).statusCode());
        HttpResponse<String> refused = call(follower, "POST", "/servers", server, GRAFANA);
        assertEquals(403, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("\"error\":\"forbidden\"") && refused.body().contains("'grafana'")
                && refused.body().contains("may only read"), refused.body());
        assertEquals(leader.raftId(), refused.headers().firstValue("X-Weldr-Leader").orElse(""));
        // The leader checks a forwarded call again.
        HttpResponse<String> forwarded = leader.request("POST", "/servers", server,
                "Authorization", "Bearer " + GRAFANA, "X-Weldr-Forwarded-By", follower.raftId());
        assertEquals(403, forwarded.statusCode(), forwarded.body());
        for (WeldrProcess n : cluster.nodes) {
            assertFalse(call(n, "GET", "/servers?consistent=true", null, GRAFANA).body().contains(":" + one), n.raftId());
        }

        // An admin token's write goes through the follower to the leader, over TLS, and is applied.
        HttpResponse<String> added = call(follower, "POST", "/servers", server, CI);
        assertEquals(201, added.statusCode(), added.body());
        assertEquals(leader.raftId(), added.headers().firstValue("X-Weldr-Leader").orElse(""));
        assertTrue(call(leader, "GET", "/servers?consistent=true", null, GRAFANA).body().contains("127.0.0.1:" + one));

        // ci leaves the file: every node refuses it, without a restart; the others keep working.
        write(tokens, "ops:admin:" + OPS + "\ngrafana:read:" + GRAFANA + "\n");
        for (WeldrProcess n : cluster.nodes) {
            WeldrProcess.await(WAIT, () -> call(n, "GET", "/servers", null, CI).statusCode() == 401, n.raftId() + " to forget ci");
        }
        HttpResponse<String> gone = call(follower, "DELETE", "/servers/127.0.0.1/" + one, null, CI);
        assertEquals(401, gone.statusCode(), gone.body());
        assertEquals(401, call(leader, "DELETE", "/servers/127.0.0.1/" + one, null, CI).statusCode());
        assertTrue(call(leader, "GET", "/servers?consistent=true", null, GRAFANA).body().contains("127.0.0.1:" + one));
        assertEquals(204, call(follower, "DELETE", "/servers/127.0.0.1/" + one, null, OPS).statusCode());
        assertFalse(call(leader, "GET", "/servers?consistent=true", null, GRAFANA).body().contains("127.0.0.1:" + one));
        for (WeldrProcess n : cluster.nodes) {
            assertTrue(n.alive(), n.raftId() + " runs on, not restarted");
            assertTrue(n.stdout().contains("loaded 3 admin tokens from " + tokens + ": admin (admin), ops (admin), grafana (read)"),
                    n.stdout());
        }

        // A fourth node joins through the leader's https:// URL, trusting the cluster's CA, with weldr.admin.token.
        Map<String, String> joining = new LinkedHashMap<>(settings);
        joining.put("weldr.raft.join", leader.admin());
        WeldrProcess fourth = WeldrProcess.create("node3", dir.resolve("node3"), joining);
        cluster.nodes.add(fourth);
        fourth.overHttps(TlsClient.trusting(ca.certificate())).start();
        WeldrProcess.await(WAIT, () -> call(leader, "GET", "/cluster", null, GRAFANA).body().contains("\"" + fourth.raftId() + "\""),
                "the fourth node to be a member");
    }

    private WeldrProcess awaitLeader() {
        WeldrProcess[] found = new WeldrProcess[1];
        WeldrProcess.await(WAIT, () -> {
            found[0] = cluster.nodes.stream().filter(n -> {
                String body = call(n, "GET", "/cluster", null, GRAFANA).body();
                return body.contains("\"self\":\"" + n.raftId() + "\"") && body.contains("\"leader\":\"" + n.raftId() + "\"");
            }).findFirst().orElse(null);
            return found[0] != null;
        }, "a leader");
        return found[0];
    }

    private static HttpResponse<String> call(WeldrProcess via, String method, String path, String json, String token) {
        return via.request(method, path, json, "Authorization", "Bearer " + token);
    }

    /** Replaced whole, as a Kubernetes Secret volume is. */
    private static void write(Path file, String content) throws IOException {
        Path next = file.resolveSibling(file.getFileName() + ".next");
        Files.writeString(next, content);
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
