package dev.weldr.it;

import dev.weldr.tls.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad configuration stops start-up with one clear line naming the key, and a non-zero exit. */
class ConfigErrorIT {

    @TempDir
    Path data;

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({
            "weldr.proxy.port, -1",
            "weldr.proxy.port, 70000",
            "weldr.proxy.event-loops, -1",
            "weldr.proxy.event-loops, 5000",
            "weldr.proxy.access-log, /nonexistent-dir/access.log",
            "weldr.proxy.access-log, /",
            "weldr.raft.port, -1",
            "quarkus.http.port, -5",
            "weldr.health-check.interval, banana",
            "weldr.health-check.interval, 0s",
            "weldr.health-check.failures, 0",
            "weldr.health-check.passes, x",
            "weldr.health-check.path, health",
            "weldr.health-check.path, /a b",
            "weldr.health-check.interval, 10ms",
            "weldr.health-check.timeout, 99ms",
            "weldr.timeout.read, soon",
            "weldr.timeout.client-head, 0s",
            "weldr.timeout.keep-alive, -1s",
            "weldr.timeout.tunnel, forever",
            "weldr.proxy.max-connections, -1",
            "weldr.ha.mode, hot",
            "weldr.ha.warm-up, -1",
            "weldr.ha.warm-up, 10001",
            "weldr.ha.warm-up, lots",
            "weldr.raft.peers, not-a-peer",
            "quarkus.http.host, 0.0.0.0",
            "weldr.proxy.tls-port, 70000",
            "weldr.proxy.public-tls-port, 0",
            "weldr.proxy.public-tls-port, 65536",
            "weldr.tls.handshake-timeout, 0s",
            "weldr.tls.store-key, too-short",
            "weldr.tls.default-certificate, Not A Name",
            "weldr.tls.provider, boringssl",
            "weldr.tls.ticket-key-rotation, 500ms",
            "weldr.acme.directory, http://acme.test/directory",
            "weldr.acme.email, nobody",
            "weldr.acme.ca-bundle, /nonexistent/ca.pem",
            "weldr.acme.challenge, dns-01",
            "weldr.acme.renewal-window-ratio, 1.5",
            "weldr.cluster.tls.reload-interval, 10ms",
            "weldr.admin.tokens-reload-interval, 10ms",
            "weldr.raft.election-timeout, 0s",
            "weldr.raft.election-timeout, 99ms",
            "weldr.raft.election-timeout, 61s",
    })
    void shouldRefuseToStartWithOneLineNamingTheKey(String key, String value) throws Exception {
        try (WeldrProcess node = WeldrProcess.create("bad-config", data, Map.of(key, value))) {
            String line = failsWithOneLine(node);
            assertTrue(line.contains(key), line);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "missing                    | | cannot be read (no such file)",
            "not name:scope:secret      | grafana-0123456789abcdef | line 1: expected name:scope:secret",
            "a scope that is not one    | grafana:write:0123456789abcdef | line 1 (token 'grafana'): the scope must be read or admin",
            "a secret too short         | # tokens\\ngrafana:read:s3cret | line 2 (token 'grafana'): the secret is 6 characters",
            "a name given twice         | a:read:0123456789abcdef\\na:admin:fedcba9876543210 | line 2 (token 'a'): the name is already given by line 1",
            "a secret given twice       | a:read:0123456789abcdef\\nb:admin:0123456789abcdef | line 2 (token 'b'): the secret is the same as the one of line 1",
            "a name clashing            | admin:read:0123456789abcdef | line 1 (token 'admin'): the name is already given by weldr.admin.token",
    })
    void shouldRefuseToStartWithABadTokensFile(String what, String content, String problem) throws Exception {
        Path file = data.resolveSibling(data.getFileName() + "-tokens");
        if (content != null) {
            java.nio.file.Files.writeString(file, content.replace("\\n", "\n"));
        }
        try (WeldrProcess node = WeldrProcess.create("bad-tokens", data,
                Map.of("weldr.admin.tokens-file", file.toString(), "weldr.admin.token", "s3cret-of-the-operator"))) {
            String line = failsWithOneLine(node);
            assertTrue(line.startsWith("weldr: invalid configuration: weldr.admin.tokens-file: " + file + " " + problem), line);
            assertFalse(line.contains("0123456789abcdef") || line.contains("s3cret"), "no secret in the line: " + line);
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    @Test
    void shouldRefuseToStartWithOpensslWhereItDoesNotLoad() throws Exception {
        // Netty's own switch makes netty-tcnative unavailable, as on a platform it has no library for.
        try (WeldrProcess node = WeldrProcess.create("no-openssl", data,
                Map.of("weldr.tls.provider", "openssl", "io.netty.handler.ssl.noOpenSsl", "true"))) {
            String line = failsWithOneLine(node);
            assertTrue(line.contains("weldr.tls.provider") && line.contains("openssl does not load"), line);
        }
    }

    /** Each case: which file is bad and how; the key its line must name and a phrase it must hold. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "cert alone, weldr.cluster.tls.key, must be set too",
            "missing cert, weldr.cluster.tls.cert, no such file",
            "unreadable key, weldr.cluster.tls.key, cannot read",
            "expired cert, weldr.cluster.tls.cert, expired",
            "key of another cert, weldr.cluster.tls.key, does not match",
            "CA that does not sign, weldr.cluster.tls.ca, does not sign",
            "cert for another host, weldr.cluster.tls.cert, but not 127.0.0.1",
    })
    void shouldRefuseToStartWithBadClusterTlsMaterial(String problem, String key, String phrase) throws Exception {
        TestCertificates.Issued ca = TestCertificates.ca("config CA");
        Instant now = Instant.now();
        TestCertificates.Issued cert = switch (problem) {
            case "expired cert" -> TestCertificates.server(ca, List.of(), List.of("127.0.0.1"),
                    now.minus(Duration.ofDays(10)), now.minus(Duration.ofDays(1)));
            case "cert for another host" -> TestCertificates.server(ca, List.of("elsewhere.weldr.test"), List.of("10.0.0.9"));
            default -> TestCertificates.server(ca, List.of(), List.of("127.0.0.1"));
        };
        Path tls = Files.createDirectories(data.resolve("tls"));
        Path certFile = Files.writeString(tls.resolve("cert.pem"), cert.chainPem());
        Path keyFile = Files.writeString(tls.resolve("key.pem"), problem.equals("key of another cert")
                ? TestCertificates.server(ca, List.of(), List.of("127.0.0.1")).keyPem() : cert.keyPem());
        Path caFile = Files.writeString(tls.resolve("ca.pem"), TestCertificates.pem(
                problem.equals("CA that does not sign") ? TestCertificates.ca("another CA").certificate() : ca.certificate()));
        Map<String, String> settings = new java.util.HashMap<>(Map.of(
                "weldr.cluster.tls.cert", problem.equals("missing cert") ? tls.resolve("nope.pem").toString() : certFile.toString(),
                "weldr.cluster.tls.key", problem.equals("unreadable key") ? tls.toString() : keyFile.toString(),
                "weldr.cluster.tls.ca", caFile.toString()));
        if (problem.equals("cert alone")) {
            settings.remove("weldr.cluster.tls.key");
            settings.remove("weldr.cluster.tls.ca");
        }
        try (WeldrProcess node = WeldrProcess.create("bad-cluster-tls", data, settings)) {
            String line = failsWithOneLine(node);
            assertTrue(line.contains(key + ": ") && line.contains(phrase), line);
        }
    }

    @ParameterizedTest(name = "{0} taken")
    @CsvSource({"weldr.proxy.port", "quarkus.http.port", "weldr.raft.port", "weldr.proxy.tls-port"})
    void shouldRefuseToStartWithOneLineNamingAPortThatIsTaken(String key) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             WeldrProcess node = WeldrProcess.create("port-taken", data, Map.of(key, Integer.toString(taken.getLocalPort())))) {
            String line = failsWithOneLine(node);
            assertTrue(line.contains("cannot listen") && line.contains(Integer.toString(taken.getLocalPort())), line);
        }
    }

    /** Starts the node, which must exit non-zero with one line on standard error and no stack trace; that line. */
    private static String failsWithOneLine(WeldrProcess node) throws Exception {
        node.launch();
        int exit = node.awaitExit(Duration.ofSeconds(30));
        assertNotEquals(0, exit);
        List<String> lines = node.stderr().lines().filter(l -> !l.isBlank())
                // sofa-common-tools prints this itself when it loads; it is not ours to silence.
                .filter(l -> !l.startsWith("Sofa-Middleware-Log")).toList();
        assertEquals(1, lines.size(), "expected one line, got: " + node.output());
        assertFalse(node.output().contains("\tat "), "no stack trace: " + node.output());
        return lines.get(0);
    }

    /**
     * An election timeout that the heartbeats' delays on a busy host can exceed starts the node, with
     * one warning naming the key; one at the floor starts it without.
     */
    @ParameterizedTest(name = "weldr.raft.election-timeout={0}")
    @CsvSource({"200ms, 1", "500ms, 0"})
    void shouldWarnOnceNamingTheKeyOfAnElectionTimeoutBelowTheSafeFloor(String timeout, int warnings) {
        try (WeldrProcess node = WeldrProcess.create("short-election", data, Map.of("weldr.raft.election-timeout", timeout))) {
            node.start();
            assertTrue(node.alive());
            List<String> lines = node.output().lines().filter(l -> l.contains(" WARN ") && l.contains("weldr.raft.election-timeout")).toList();
            assertEquals(warnings, lines.size(), node.output());
            lines.forEach(l -> assertTrue(l.contains("weldr.raft.election-timeout=" + timeout), l));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"weldr.admin.token, s3cret", "weldr.admin.insecure, true"})
    void shouldStartOnAnOpenAddressWithATokenOrWhenToldItIsInsecure(String key, String value) {
        try (WeldrProcess node = WeldrProcess.create("open-admin", data, Map.of("quarkus.http.host", "0.0.0.0", key, value))) {
            node.start();
            assertTrue(node.alive());
        }
    }

    @Test
    void shouldStartOnAnOpenAddressWithATokensFile() throws Exception {
        Path file = data.resolveSibling(data.getFileName() + "-tokens");
        java.nio.file.Files.writeString(file, "grafana:read:0123456789abcdef\n");
        try (WeldrProcess node = WeldrProcess.create("open-admin", data,
                Map.of("quarkus.http.host", "0.0.0.0", "weldr.admin.tokens-file", file.toString()))) {
            node.start();
            assertTrue(node.alive());
            assertEquals(401, node.get("/servers").statusCode());
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }
}
