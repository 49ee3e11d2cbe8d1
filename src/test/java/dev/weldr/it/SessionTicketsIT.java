package dev.weldr.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weldr.tls.TestCertificates;
import dev.weldr.tls.TlsClient;
import io.netty.handler.ssl.OpenSsl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Session resumption across the cluster: the leader's session-ticket keys, replicated through
 * Raft, let a client resume on any node a session another node gave it (TLS 1.3, and TLS 1.2
 * tickets), across rotations while the key is kept, after the leader is killed, and across a
 * restart, neither of which makes a new key; a node of another
 * cluster, with other keys, does not resume it. The client is {@code openssl s_client}.
 */
class SessionTicketsIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final TestCertificates.Issued CA = TestCertificates.ca("weldr tickets root");
    private static final TestCertificates.Issued SHOP = TestCertificates.leaf(CA, "shop.example");
    private static final SSLContext CLIENT = TlsClient.trusting(CA.certificate());

    @TempDir
    Path dir;
    private final List<AutoCloseable> started = new ArrayList<>();

    @BeforeAll
    static void needsOpenSsl() {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl is not installed");
        assumeTrue(OpenSsl.isAvailable(), "netty-tcnative does not load here, so weldr serves with the JDK's TLS");
    }

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable c : started) {
            c.close();
        }
    }

    @Test
    void shouldResumeOnAnotherNodeASessionFromOneAndStillAfterARotationButNotPastTheKeysKept() throws Exception {
        TestCluster c = new TestCluster(dir.resolve("cluster"), 3, Map.of("weldr.tls.ticket-key-rotation", "6s"));
        started.add(c);
        c.start();
        WeldrProcess leader = c.awaitLeader(WAIT);
        assertEquals(200, TlsIT.put(leader, "/certificates/shop", TestCertificates.body(SHOP)).statusCode());
        WeldrProcess a = c.nodes.get(0);
        WeldrProcess b = c.nodes.get(1);
        WeldrProcess third = c.nodes.get(2);
        for (WeldrProcess n : c.nodes) {
            WeldrProcess.await(WAIT, () -> SHOP.fingerprint().equals(served(n, "shop.example")), n.raftId() + " to serve shop");
        }

        WeldrProcess.await(WAIT, () -> keysInUse(a) > 0, "node A to use the cluster's key");
        Path tls13 = dir.resolve("tls13.session");
        Path tls12 = dir.resolve("tls12.session");
        // Which key sealed the tickets must be known: issue them right after a rotation, again if another came meanwhile.
        double issuedUnder = Double.NaN;
        for (int attempt = 0; attempt < 5 && Double.isNaN(issuedUnder); attempt++) {
            double before = created(a);
            WeldrProcess.await(WAIT, () -> created(a) > before, "a rotation");
            double key = created(a);
            assertTrue(sClient(a, "-tls1_3", "-sess_out", tls13.toString()).contains("New, TLSv1.3"));
            assertTrue(sClient(a, "-tls1_2", "-sess_out", tls12.toString()).contains("New, TLSv1.2"));
            if (created(a) == key) {
                issuedUnder = key;
            }
        }
        assertFalse(Double.isNaN(issuedUnder), "five rotations came while two tickets were issued: the machine is too slow");
        double sealedWith = issuedUnder;
        WeldrProcess.await(WAIT, () -> created(b) >= sealedWith, "node B to have the key");

        String on13 = sClient(b, "-tls1_3", "-sess_in", tls13.toString());
        assertTrue(on13.contains("Reused, TLSv1.3"), "a TLS 1.3 session from node A resumes on node B: " + on13);
        String on12 = sClient(b, "-tls1_2", "-sess_in", tls12.toString());
        assertTrue(on12.contains("Reused, TLSv1.2"), "a TLS 1.2 ticket from node A resumes on node B: " + on12);

        WeldrProcess.await(WAIT, () -> created(third) > sealedWith, "one rotation since the tickets were issued");
        String afterRotation = sClient(third, "-tls1_3", "-sess_in", tls13.toString());
        assertTrue(afterRotation.contains("Reused, TLSv1.3"), "the previous key still decrypts: " + afterRotation);

        // Three newer keys: the one the ticket was sealed with is gone everywhere.
        List<Double> seen = new ArrayList<>(List.of(issuedUnder));
        WeldrProcess.await(WAIT, () -> {
            double now = created(b);
            if (!seen.contains(now)) {
                seen.add(now);
            }
            assertTrue(keysInUse(b) <= 3, "at most three keys");
            return seen.size() > 3;
        }, "three rotations since the tickets were issued");
        String tooOld = sClient(b, "-tls1_3", "-sess_in", tls13.toString());
        assertTrue(tooOld.contains("New, TLSv1.3") && tooOld.contains("HTTP/1.1 "),
                "a ticket older than the keys kept is not resumed, but the handshake completes: " + tooOld);
        for (WeldrProcess n : c.nodes) {
            assertEquals(3, keysInUse(n), n.raftId());
            assertEquals(1, n.stdout().lines().filter(l -> l.contains("TLS provider: OpenSSL")).count(), n.stdout());
        }
        long rotations = c.nodes.stream().mapToLong(n -> n.stdout().lines()
                .filter(l -> l.contains("new session-ticket key for the cluster")).count()).sum();
        assertTrue(rotations >= 5, "only leaders log a rotation, once each: " + rotations);
    }

    @Test
    void shouldResumeOnASurvivorAfterTheLeaderIsKilledWithoutANewKey() throws Exception {
        TestCluster c = new TestCluster(dir.resolve("failover"), 3, Map.of());
        started.add(c);
        c.start();
        WeldrProcess leader = c.awaitLeader(WAIT);
        assertEquals(200, TlsIT.put(leader, "/certificates/shop", TestCertificates.body(SHOP)).statusCode());
        for (WeldrProcess n : c.nodes) {
            WeldrProcess.await(WAIT, () -> SHOP.fingerprint().equals(served(n, "shop.example")) && keysInUse(n) == 1,
                    n.raftId() + " to serve shop with the cluster's key");
        }
        double key = created(leader);
        Path session = dir.resolve("from-leader.session");
        assertTrue(sClient(leader, "-tls1_3", "-sess_out", session.toString()).contains("New, TLSv1.3"));

        leader.kill();
        WeldrProcess next = c.awaitLeader(WAIT);
        WeldrProcess other = c.followers(leader).stream().filter(n -> n != next).findFirst().orElseThrow();
        for (WeldrProcess n : List.of(next, other)) {
            String resumed = sClient(n, "-tls1_3", "-sess_in", session.toString());
            assertTrue(resumed.contains("Reused, TLSv1.3"), n.raftId() + " resumes the killed leader's session: " + resumed);
        }
        // A key made on election is proposed as the new leader takes office, so in practice ahead of this write.
        assertEquals(200, TlsIT.put(next, "/certificates/blog", TestCertificates.body(TestCertificates.leaf(CA, "blog.example")))
                .statusCode());
        assertEquals(key, created(next), 0.0, "the new leader keeps the schedule: no key on election");
        assertEquals(1, keysInUse(next));
    }

    @Test
    void shouldKeepTheKeysSealedAcrossARestartAndNotResumeOnAnotherClustersNode() throws Exception {
        Map<String, String> props = Map.of("weldr.tls.store-key", "tickets-store-key-0123456789",
                "weldr.raft.snapshot-interval", "1s");
        WeldrProcess node = single("tickets", props);
        WeldrProcess other = single("other-cluster", props);
        Path session = dir.resolve("tls13.session");
        String first = sClient(node, "-tls1_3", "-sess_out", session.toString());
        assertTrue(first.contains("New, TLSv1.3"), first);
        assertTrue(sClient(node, "-tls1_3", "-sess_in", session.toString()).contains("Reused, TLSv1.3"));
        String elsewhere = sClient(other, "-tls1_3", "-sess_in", session.toString());
        assertTrue(elsewhere.contains("New, TLSv1.3"), "another cluster's keys do not open the ticket: " + elsewhere);

        WeldrProcess.await(WAIT, () -> node.snapshotIndex() > 0, "a snapshot");
        JsonNode keys = snapshotTicketKeys(dir.resolve("tickets"));
        assertEquals(1, keys.size(), keys.toString());
        assertTrue(keys.get(0).path("key").asText().startsWith("sealed:v1:"), "the ticket key is sealed with the store key");
        double key = created(node);
        node.stop();

        WeldrProcess again = node.again("tickets-again");
        started.add(again);
        again.start();
        WeldrProcess.await(WAIT, () -> SHOP.fingerprint().equals(served(again, "shop.example")), "the restarted node to serve");
        WeldrProcess.await(WAIT, () -> keysInUse(again) == 1, "the restarted node to use the kept key");
        assertEquals(key, created(again), 0.0, "no new key after a restart: the schedule goes on from the kept one");
        String resumed = sClient(again, "-tls1_3", "-sess_in", session.toString());
        assertTrue(resumed.contains("Reused, TLSv1.3"), "the key survived the restart: " + resumed);
        assertFalse(again.output().contains(keys.get(0).path("key").asText()), "the sealed key is never logged");
    }

    private WeldrProcess single(String name, Map<String, String> props) {
        WeldrProcess n = WeldrProcess.create(name, dir.resolve(name), props);
        started.add(n);
        n.start();
        WeldrProcess.await(WAIT, n::ready, name + " to lead");
        assertTrue(Double.isNaN(created(n)), "no key while no certificate is stored");
        HttpResponse<String> r = TlsIT.put(n, "/certificates/shop", TestCertificates.body(SHOP));
        assertEquals(200, r.statusCode(), r.body());
        WeldrProcess.await(WAIT, () -> keysInUse(n) == 1, name + " to use its first ticket key");
        return n;
    }

    /** The fingerprint of the certificate a node serves for shop.example, or null when the handshake fails. */
    private static String served(WeldrProcess node, String serverName) {
        try (SSLSocket s = TlsClient.connect(CLIENT, node.tlsPort(), serverName, true)) {
            return TlsClient.served(s);
        } catch (Exception e) {
            return null;
        }
    }

    private static JsonNode snapshotTicketKeys(Path data) throws IOException {
        try (Stream<Path> files = Files.walk(data.resolve("snapshot"))) {
            Path newest = files.filter(p -> p.getFileName().toString().equals("topology.json"))
                    .max((x, y) -> x.toString().compareTo(y.toString())).orElseThrow();
            return new ObjectMapper().readTree(newest.toFile()).path("ticketKeys");
        }
    }

    /** {@code weldr_tls_ticket_key_created_seconds}: when the key that encrypts was made; NaN while there is none. */
    private static double created(WeldrProcess node) {
        return metric(node, "weldr_tls_ticket_key_created_seconds");
    }

    private static int keysInUse(WeldrProcess node) {
        return (int) metric(node, "weldr_tls_ticket_keys");
    }

    private static double metric(WeldrProcess node, String name) {
        String body = node.get("/q/metrics").body();
        return body.lines().filter(l -> l.startsWith(name + " "))
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no " + name + " in " + body));
    }

    /** One request through {@code openssl s_client} naming shop.example; it reads until weldr closes the connection. */
    private static String sClient(WeldrProcess node, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + node.tlsPort(),
                "-servername", "shop.example", "-ign_eof"));
        command.addAll(List.of(options));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write("GET / HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "openssl did not finish");
        return out;
    }
}
