package dev.weldr.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weldr.acme.Pebble;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.weldr.it.AcmeFixture.awaitState;
import static dev.weldr.it.AcmeFixture.certificate;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Managed certificates in a cluster of three real processes with the same {@code weldr.acme.*}
 * settings: the leader orders, the CA's HTTP-01 requests reach a follower's listener, which
 * answers from the replicated state, and every node serves the result; then the leader is
 * killed while the CA's validation request is held at a relay, and the new leader finishes
 * that same order instead of placing another.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AcmeClusterIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration ELECTION = Duration.ofSeconds(30);
    private static final Pattern CHALLENGE_LOGGED = Pattern.compile("\"GET /\\.well-known/acme-challenge/([A-Za-z0-9_-]+) HTTP/1\\.1\" 200 ");

    @TempDir
    static Path dir;
    private static Pebble pebble;
    private static AcmeFixture tls;
    private static TestCluster cluster;
    /** The node whose plain port Pebble validates on, kept a follower. */
    private static WeldrProcess validator;

    @BeforeAll
    static void start() {
        int validatorPort = WeldrProcess.freePort();
        pebble = Pebble.start(Pebble.Options.defaults().httpPort(validatorPort));
        tls = new AcmeFixture(pebble);
        Map<String, String> settings = new LinkedHashMap<>(AcmeFixture.settings(pebble, Map.of()));
        // Short, so the new leader comes well within the 15 s Pebble waits for the held validation request.
        settings.put("weldr.raft.election-timeout", "1s");
        settings.put("weldr.proxy.access-log", "stdout");
        cluster = new TestCluster(dir, List.of(validatorPort, 0, 0), settings).start();
        validator = cluster.nodes.get(0);
        WeldrProcess leader = cluster.awaitLeader(ELECTION);
        if (leader == validator) {
            WeldrProcess other = cluster.nodes.get(1);
            HttpResponse<String> r = validator.post("/cluster/leader", "{\"peer\": \"" + other.raftId() + "\"}");
            assertEquals(200, r.statusCode(), r.body());
            WeldrProcess.await(ELECTION, () -> cluster.leader().filter(l -> l != validator).isPresent(), "another node to lead");
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
        if (pebble != null) {
            pebble.close();
        }
    }

    private static Set<String> challengesAnswered(WeldrProcess n) {
        Set<String> tokens = new TreeSet<>();
        Matcher m = CHALLENGE_LOGGED.matcher(n.stdout());
        while (m.find()) {
            tokens.add(m.group(1));
        }
        return tokens;
    }

    @Test
    @Order(1)
    void shouldOrderOnTheLeaderValidateOnAFollowerAndServeOnEveryNode() throws Exception {
        WeldrProcess leader = cluster.awaitLeader(ELECTION);
        assertNotEquals(validator, leader, "Pebble validates on a follower");
        // Asked of a follower, which hands the request to the leader.
        HttpResponse<String> r = TlsIT.put(validator, "/certificates/shop", "{\"acme\": {\"names\": [\"shop.weldr.test\", \"www.shop.weldr.test\"]}}");
        assertEquals(202, r.statusCode(), r.body());
        assertEquals(leader.raftId(), r.headers().firstValue("X-Weldr-Leader").orElse(""));
        for (WeldrProcess n : cluster.nodes) {
            awaitState(n, "shop", "valid", WAIT);
        }
        assertEquals(leader, cluster.leader().orElse(null), "the same leader throughout");

        assertTrue(leader.stdout().contains("certificate shop: ACME order placed for shop.weldr.test, www.shop.weldr.test"), leader::stdout);
        assertTrue(leader.stdout().contains("certificate shop: issued for shop.weldr.test, www.shop.weldr.test"), leader::stdout);
        for (WeldrProcess f : cluster.followers(leader)) {
            assertFalse(f.stdout().contains("ACME order placed"), "only the leader orders: " + f.stdout());
        }
        // Each name's token, fetched by the CA from the follower's listener and answered there.
        assertEquals(2, challengesAnswered(validator).size(), validator::stdout);
        for (WeldrProcess n : cluster.followers(validator)) {
            assertEquals(Set.of(), challengesAnswered(n), "the CA asked only the follower");
        }
        assertTrue(pebble.validations().containsAll(List.of(new Pebble.Validation("dns", "shop.weldr.test"),
                new Pebble.Validation("dns", "www.shop.weldr.test"))), pebble::logs);

        String fingerprint = certificate(leader, "shop").path("fingerprint").asText();
        for (WeldrProcess n : cluster.nodes) {
            assertEquals(fingerprint, certificate(n, "shop").path("fingerprint").asText());
            // A follower loads the certificate into its handshakes once it has applied it.
            WeldrProcess.await(WAIT, () -> fingerprint.equals(tls.served(n, "shop.weldr.test")), n.raftId() + " to serve it");
            for (String name : List.of("shop.weldr.test", "www.shop.weldr.test")) {
                List<X509Certificate> chain = tls.chain(n, name);
                assertEquals(fingerprint, AcmeFixture.fingerprint(chain.get(0)), n.raftId() + " " + name);
                assertEquals(Set.of("shop.weldr.test", "www.shop.weldr.test"), AcmeFixture.dnsNames(chain.get(0)));
            }
        }
        assertEquals(1, pebble.issuedNames().stream().filter(Set.of("shop.weldr.test", "www.shop.weldr.test")::equals).count(),
                pebble::logs);
    }

    @Test
    @Order(2)
    void shouldFinishTheOrderOfALeaderKilledMidOrderWithoutASecondOne() throws Exception {
        WeldrProcess leader = cluster.awaitLeader(ELECTION);
        // Pebble's request for this name goes to 127.0.0.3 on the port it validates on, where the relay holds it.
        try (HoldingRelay relay = new HoldingRelay("127.0.0.3", validator.proxyPort, validator.proxyPort)) {
            relay.hold();
            pebble.addA("kill.weldr.test", "127.0.0.3");
            int ordersBefore = pebble.orders().size();
            int issuedBefore = pebble.issued().size();
            HttpResponse<String> r = TlsIT.put(leader, "/certificates/kill", "{\"acme\": {\"names\": [\"kill.weldr.test\"]}}");
            assertEquals(202, r.statusCode(), r.body());
            WeldrProcess.await(WAIT, () -> relay.held() > 0, "the CA's validation request held at the relay");

            JsonNode pending = certificate(leader, "kill");
            assertEquals("pending", pending.path("acme").path("state").asText(), pending::toString);
            String order = pending.path("acme").path("order").asText();
            assertTrue(order.startsWith("https://127.0.0.1:" + pebble.port() + "/my-order/"), pending::toString);

            leader.kill();
            WeldrProcess next = cluster.awaitLeader(ELECTION);
            WeldrProcess follower = cluster.followers(next).get(0);
            relay.release(follower.proxyPort);
            Duration held = relay.longestHold();

            for (WeldrProcess n : List.of(next, follower)) {
                awaitState(n, "kill", "valid", Duration.ofSeconds(90));
            }
            String fingerprint = certificate(next, "kill").path("fingerprint").asText();
            for (WeldrProcess n : List.of(next, follower)) {
                WeldrProcess.await(WAIT, () -> fingerprint.equals(tls.served(n, "kill.weldr.test")), n.raftId() + " to serve it");
            }
            String orderId = order.substring(order.lastIndexOf('/') + 1);
            List<String> orders = pebble.orders();
            assertEquals(List.of(orderId), orders.subList(ordersBefore, orders.size()),
                    () -> "one order, the one placed before the kill (validation held " + held + ", Pebble gives up after 15 s):\n" + pebble.logs());
            List<Pebble.Issuance> issued = pebble.issued();
            assertEquals(1, issued.size() - issuedBefore, pebble::logs);
            assertEquals(orderId, issued.get(issued.size() - 1).order());
            assertEquals(1, pebble.issuedNames().stream().filter(Set.of("kill.weldr.test")::equals).count());
            assertTrue(next.stdout().contains("certificate kill: issued for kill.weldr.test"), "the new leader finished it: " + next.stdout());
            assertFalse(next.stdout().contains("certificate kill: ACME order placed"), "the new leader placed no order: " + next.stdout());
            assertTrue(relay.responseLines().stream().anyMatch(l -> l.startsWith("HTTP/1.1 200 ")),
                    "the follower answered the held request: " + relay.responseLines());
        } finally {
            pebble.clearA("kill.weldr.test");
        }
    }
}
