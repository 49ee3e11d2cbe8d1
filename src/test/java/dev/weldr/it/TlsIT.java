package dev.weldr.it;

import dev.weldr.tls.TestCertificates;
import dev.weldr.tls.TlsClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Certificates in real processes: kept across restarts (the Raft log and snapshots), private keys
 * sealed at rest with {@code weldr.tls.store-key}, the data directory the owner's only, and a
 * three-node cluster where a certificate uploaded to a follower is served by every node, and
 * still after the leader is killed.
 */
class TlsIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final TestCertificates.Issued CA = TestCertificates.ca("weldr it root");
    private static final SSLContext CLIENT = TlsClient.trusting(CA.certificate());

    @TempDir
    Path dir;
    private final List<AutoCloseable> started = new ArrayList<>();

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable c : started) {
            c.close();
        }
    }

    static HttpResponse<String> put(WeldrProcess node, String path, String json) {
        try {
            return WeldrProcess.HTTP.send(HttpRequest.newBuilder(URI.create(node.admin() + path))
                    .header("Content-Type", "application/json").timeout(Duration.ofSeconds(20))
                    .PUT(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The fingerprint of the certificate a node serves for that name, or null when the handshake fails. */
    static String served(WeldrProcess node, String serverName) {
        try (SSLSocket s = TlsClient.connect(CLIENT, node.tlsPort(), serverName, true)) {
            return TlsClient.served(s);
        } catch (Exception e) {
            return null;
        }
    }

    private static String keyFragment(TestCertificates.Issued leaf) {
        return leaf.keyPem().split("\n")[1].substring(0, 40);
    }

    /** Whether any file under the directory holds the text (RocksDB's write-ahead log, SST files, snapshots, metadata). */
    private static boolean anyFileContains(Path root, String text) throws IOException {
        byte[] needle = text.getBytes(StandardCharsets.US_ASCII);
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                byte[] bytes = Files.readAllBytes(f);
                outer:
                for (int i = 0; i + needle.length <= bytes.length; i++) {
                    for (int j = 0; j < needle.length; j++) {
                        if (bytes[i + j] != needle[j]) {
                            continue outer;
                        }
                    }
                    return true;
                }
            }
        }
        return false;
    }

    private WeldrProcess node(String name, Path data, Map<String, String> props) {
        WeldrProcess n = WeldrProcess.create(name, data, props);
        started.add(n);
        return n.start();
    }

    @Test
    void shouldStoreTheKeyAsPemInAnOwnerOnlyDirectoryWithoutAStoreKey() throws Exception {
        Path data = dir.resolve("plain");
        WeldrProcess node = node("tls-plain", data, Map.of("weldr.raft.snapshot-interval", "1s"));
        WeldrProcess.await(WAIT, node::ready, "the node to lead");
        TestCertificates.Issued leaf = TestCertificates.leaf(CA, "shop.example");
        HttpResponse<String> r = put(node, "/certificates/shop", TestCertificates.body(leaf));
        assertEquals(200, r.statusCode(), r.body());
        WeldrProcess.await(WAIT, () -> node.snapshotIndex() > 0, "a snapshot");
        WeldrProcess.await(WAIT, () -> {
            try {
                return anyFileContains(data.resolve("snapshot"), keyFragment(leaf));
            } catch (IOException e) {
                return false; // a snapshot being replaced
            }
        }, "the key in the snapshot, as PEM");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data)));
        try (Stream<Path> snapshots = Files.walk(data.resolve("snapshot"))) {
            for (Path f : snapshots.filter(p -> p.getFileName().toString().equals("topology.json")).toList()) {
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
            }
        }
        assertFalse(node.output().contains(keyFragment(leaf)), "the key is never logged");
    }

    @Test
    void shouldKeepACertificateAcrossARestartWithItsKeySealed() throws Exception {
        Path data = dir.resolve("sealed");
        Map<String, String> props = Map.of("weldr.tls.store-key", "it-store-key-0123456789", "weldr.raft.snapshot-interval", "1s");
        WeldrProcess node = node("tls-sealed", data, props);
        WeldrProcess.await(WAIT, node::ready, "the node to lead");
        // Ten days left: each start warns of it (at most once a day otherwise).
        java.time.Instant now = java.time.Instant.now();
        TestCertificates.Issued leaf = TestCertificates.leaf(CA, TestCertificates.ec("secp256r1"),
                now.minus(java.time.Duration.ofDays(80)), now.plus(java.time.Duration.ofDays(10)), "shop.example");
        HttpResponse<String> r = put(node, "/certificates/shop", TestCertificates.body(leaf));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(leaf.fingerprint(), served(node, "shop.example"));
        WeldrProcess.await(WAIT, () -> node.snapshotIndex() > 0, "a snapshot");
        assertFalse(anyFileContains(data, keyFragment(leaf)), "the key is sealed in the log and the snapshot");
        assertFalse(anyFileContains(data, "PRIVATE KEY"), "the key is sealed in the log and the snapshot");
        assertTrue(anyFileContains(data, "sealed:v1:"));
        node.stop();

        WeldrProcess again = node.again("tls-sealed-again");
        started.add(again);
        again.start();
        WeldrProcess.await(WAIT, () -> leaf.fingerprint().equals(served(again, "shop.example")),
                "the restarted node to serve the certificate");
        assertTrue(again.get("/certificates/shop").body().contains("\"served\":true"));
        WeldrProcess.await(WAIT, () -> again.output().contains("WARN  [ExpiryWarnings] certificate shop (shop.example) expires in 9 days 23 hours"),
                "the restarted node to warn of the certificate's expiry");
        assertFalse(again.output().contains(keyFragment(leaf)), "the key is never logged");
    }

    /** The head of the answer to {@code GET /} over HTTPS with that server name, or null when it fails. */
    static String httpsHead(WeldrProcess node, String serverName) {
        try (SSLSocket s = TlsClient.connect(CLIENT, node.tlsPort(), serverName, true)) {
            s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + serverName + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            return answer.substring(0, answer.indexOf("\r\n\r\n"));
        } catch (Exception e) {
            return null;
        }
    }

    @Test
    void shouldKeepARoutesRedirectAndHstsAcrossARestartAndNameThePublicTlsPort() throws Exception {
        Path data = dir.resolve("redirect");
        WeldrProcess node = node("tls-redirect", data, Map.of("weldr.proxy.public-tls-port", "443", "weldr.raft.snapshot-interval", "1s"));
        WeldrProcess.await(WAIT, node::ready, "the node to lead");
        assertEquals(200, put(node, "/certificates/shop", TestCertificates.body(TestCertificates.leaf(CA, "shop.example"))).statusCode());
        long snapshotted = node.snapshotIndex();
        HttpResponse<String> r = put(node, "/routes/all", "{\"pool\": \"default\", \"httpsRedirect\": true,"
                + " \"hsts\": {\"maxAge\": 31536000, \"includeSubDomains\": true, \"preload\": true}}");
        assertEquals(200, r.statusCode(), r.body());
        // Behind a VIP or a Service that maps 443 to the HTTPS listener, the redirect names no port.
        HttpResponse<String> redirect = node.proxyGet("/cart?id=7");
        assertEquals(308, redirect.statusCode());
        assertEquals("https://127.0.0.1/cart?id=7", redirect.headers().firstValue("location").orElse(""));
        WeldrProcess.await(WAIT, () -> node.snapshotIndex() > snapshotted, "a snapshot with the route");
        node.stop();

        WeldrProcess again = node.again("tls-redirect-again");
        started.add(again);
        again.start();
        WeldrProcess.await(WAIT, again::ready, "the restarted node to lead");
        WeldrProcess.await(WAIT, () -> again.proxyGet("/a?b").statusCode() == 308, "the restarted node to redirect");
        assertEquals("https://127.0.0.1/a?b", again.proxyGet("/a?b").headers().firstValue("location").orElse(""));
        String head = httpsHead(again, "shop.example");
        assertTrue(head != null && head.startsWith("HTTP/1.1 503")
                && head.contains("\r\nstrict-transport-security: max-age=31536000; includeSubDomains; preload\r\n"), head);
    }

    @Test
    void shouldServeACertificateUploadedToAFollowerOnEveryNodeAndAfterTheLeaderIsKilled() {
        TestCluster c = new TestCluster(dir.resolve("cluster"), 3, Map.of());
        started.add(c);
        c.start();
        WeldrProcess leader = c.awaitLeader(WAIT);
        WeldrProcess follower = c.followers(leader).get(0);
        TestCertificates.Issued first = TestCertificates.leaf(CA, "shop.example");
        HttpResponse<String> r = put(follower, "/certificates/shop", TestCertificates.body(first));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(leader.raftId(), r.headers().firstValue("X-Weldr-Leader").orElse(""));
        for (WeldrProcess n : c.nodes) {
            WeldrProcess.await(WAIT, () -> first.fingerprint().equals(served(n, "shop.example")),
                    "node " + n.raftId() + " to serve the certificate");
        }

        leader.kill();
        WeldrProcess next = c.awaitLeader(WAIT);
        for (WeldrProcess n : c.followers(leader)) {
            assertEquals(first.fingerprint(), served(n, "shop.example"), "a survivor still serves it");
        }
        TestCertificates.Issued second = TestCertificates.leaf(CA, "shop.example");
        WeldrProcess via = c.followers(leader).stream().filter(n -> n != next).findFirst().orElse(next);
        r = put(via, "/certificates/shop", TestCertificates.body(second));
        assertEquals(200, r.statusCode(), r.body());
        for (WeldrProcess n : c.followers(leader)) {
            WeldrProcess.await(WAIT, () -> second.fingerprint().equals(served(n, "shop.example")),
                    "node " + n.raftId() + " to serve the replacement");
        }
    }
}
