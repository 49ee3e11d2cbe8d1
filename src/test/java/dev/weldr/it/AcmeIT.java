package dev.weldr.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weldr.acme.Pebble;
import dev.weldr.tls.TestCertificates;
import dev.weldr.tls.TlsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static dev.weldr.it.AcmeFixture.awaitState;
import static dev.weldr.it.AcmeFixture.certificate;
import static dev.weldr.it.AcmeFixture.instant;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Managed certificates on one real weldr process against Pebble on loopback: issued over
 * HTTP-01 on the node's plain listener and served by SNI beside an uploaded certificate,
 * renewed under HTTPS load without a failed request, the CA's refusals and an unreachable CA
 * shown in the state with retries backing off, bad requests refused with nothing stored, and a
 * removed certificate's challenge no longer answered.
 */
class AcmeIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final TestCertificates.Issued UPLOAD_CA = TestCertificates.ca("weldr acme it upload CA");
    private static final SSLContext UPLOAD_TRUST = TlsClient.trusting(UPLOAD_CA.certificate());
    private static final Pattern TOKEN = Pattern.compile("^GET /\\.well-known/acme-challenge/([A-Za-z0-9_-]+) HTTP/1\\.1$");

    @TempDir
    static Path dir;
    @RegisterExtension
    final Backends backends = new Backends();

    private static Pebble pebble;
    private static AcmeFixture tls;
    /** A node whose Pebble validates HTTP-01 on the node's own plain port; retries back off from 1 s. */
    private static WeldrProcess node;
    private static TestCertificates.Issued uploaded;
    /** The fingerprint of a managed certificate issued before the tests: what a failure elsewhere must not touch. */
    private static String steady;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeAll
    static void start() {
        int proxyPort = WeldrProcess.freePort();
        pebble = Pebble.start(Pebble.Options.defaults().httpPort(proxyPort).domainBlocklist("blocked.weldr.test"));
        tls = new AcmeFixture(pebble);
        node = WeldrProcess.create("acme", dir.resolve("acme"), WeldrProcess.freePort(), proxyPort, WeldrProcess.freePort(),
                AcmeFixture.settings(pebble, Map.of("weldr.acme.retry-backoff", "1s"))).start();
        WeldrProcess.await(WAIT, node::ready, "the node to lead");
        uploaded = TestCertificates.leaf(UPLOAD_CA, "upload.weldr.test");
        HttpResponse<String> r = TlsIT.put(node, "/certificates/upload", TestCertificates.body(uploaded));
        assertEquals(200, r.statusCode(), r.body());
        r = TlsIT.put(node, "/certificates/steady", acme("steady.weldr.test"));
        assertEquals(202, r.statusCode(), r.body());
        awaitState(node, "steady", "valid", WAIT);
        steady = certificate(node, "steady").path("fingerprint").asText();
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
        if (pebble != null) {
            pebble.close();
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    private static String acme(String... names) {
        return "{\"acme\": {\"names\": [" + Set.of(names).stream().sorted().map(n -> "\"" + n + "\"").collect(Collectors.joining(", ")) + "]}}";
    }

    /** The uploaded certificate and the managed one issued before the test: stored, served and in the state they were. */
    private static void assertOthersUntouched(WeldrProcess n, TestCertificates.Issued upload, String managed, String managedFingerprint) {
        JsonNode u = certificate(n, "upload");
        assertNotNull(u, "the uploaded certificate is still stored");
        assertEquals("upload", u.path("source").asText());
        assertTrue(u.path("acme").isNull(), u::toString);
        assertEquals(upload.fingerprint(), u.path("fingerprint").asText());
        try (SSLSocket s = TlsClient.connect(UPLOAD_TRUST, n.tlsPort(), "upload.weldr.test", true)) {
            assertEquals(upload.fingerprint(), TlsClient.served(s));
        } catch (Exception e) {
            throw new AssertionError("the uploaded certificate is no longer served", e);
        }
        if (managed != null) {
            JsonNode m = certificate(n, managed);
            assertNotNull(m, managed + " is still managed");
            assertEquals("valid", m.path("acme").path("state").asText(), m::toString);
            assertEquals(0, m.path("acme").path("failures").asInt(), m::toString);
            assertTrue(m.path("acme").path("error").isNull(), m::toString);
            assertEquals(managedFingerprint, m.path("fingerprint").asText());
            assertEquals(managedFingerprint, tls.served(n, managed + ".weldr.test"));
        }
    }

    @Test
    void shouldIssueAndServeByServerNameBesideAnUploadedCertificate() throws Exception {
        HttpResponse<String> r = TlsIT.put(node, "/certificates/shop", acme("shop.weldr.test", "www.shop.weldr.test"));
        assertEquals(202, r.statusCode(), r.body());
        JsonNode accepted = AcmeFixture.parse(r.body());
        assertEquals("acme", accepted.path("source").asText());
        assertEquals("pending", accepted.path("acme").path("state").asText());
        assertTrue(accepted.path("fingerprint").isNull(), "nothing issued yet: " + r.body());

        awaitState(node, "shop", "valid", WAIT);
        JsonNode c = certificate(node, "shop");
        // The leaf's names (in the order the CA wrote them), and the names asked for (as asked).
        assertEquals(Set.of("shop.weldr.test", "www.shop.weldr.test"), Set.copyOf(names(c.path("names"))));
        assertEquals(List.of("shop.weldr.test", "www.shop.weldr.test"), names(c.path("acme").path("names")));
        assertTrue(c.path("served").asBoolean(), c::toString);
        assertTrue(c.path("acme").path("order").isNull(), "no order under way once issued: " + c);
        assertTrue(c.path("acme").path("error").isNull(), c::toString);
        assertTrue(c.path("issuer").asText().contains("Pebble"), c::toString);
        Instant notAfter = instant(c.path("notAfter"));
        Instant renewAt = instant(c.path("acme").path("renewAt"));
        assertTrue(renewAt.isAfter(instant(c.path("notBefore"))) && renewAt.isBefore(notAfter), c::toString);

        for (String name : List.of("shop.weldr.test", "www.shop.weldr.test")) {
            // The handshake itself verifies the chain up to Pebble's root and the name.
            List<X509Certificate> chain = tls.chain(node, name);
            assertEquals(Set.of("shop.weldr.test", "www.shop.weldr.test"), AcmeFixture.dnsNames(chain.get(0)));
            assertEquals(c.path("fingerprint").asText(), AcmeFixture.fingerprint(chain.get(0)));
            assertTrue(chain.size() >= 2, "the intermediate is served with the leaf");
        }
        assertTrue(pebble.issuedNames().contains(Set.of("shop.weldr.test", "www.shop.weldr.test")), pebble::logs);
        assertTrue(pebble.validations().containsAll(List.of(new Pebble.Validation("dns", "shop.weldr.test"),
                new Pebble.Validation("dns", "www.shop.weldr.test"))), "validated over HTTP-01 on the node's port: " + pebble.logs());
        assertOthersUntouched(node, uploaded, "steady", steady);

        // The same names again: nothing to do, nothing ordered.
        int orders = pebble.orders().size();
        r = TlsIT.put(node, "/certificates/shop", acme("www.shop.weldr.test", "shop.weldr.test"));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("valid", AcmeFixture.parse(r.body()).path("acme").path("state").asText());
        assertEquals(orders, pebble.orders().size(), pebble::logs);

        assertEquals(204, node.delete("/certificates/shop").statusCode());
        assertEquals(404, node.get("/certificates/shop").statusCode());
        assertNull(tls.served(node, "shop.weldr.test"), "a removed certificate is no longer served");
        assertOthersUntouched(node, uploaded, "steady", steady);
    }

    @Test
    void shouldValidateOverTlsAlpnOnTheHttpsListener() throws Exception {
        int tlsPort = WeldrProcess.freePort();
        // Pebble's HTTP-01 port is one nothing listens on: only the HTTPS listener can prove the name.
        try (Pebble alpn = Pebble.start(Pebble.Options.defaults().httpPort(WeldrProcess.freePort()).tlsPort(tlsPort))) {
            Map<String, String> extra = new java.util.HashMap<>(AcmeFixture.settings(alpn, Map.of("weldr.acme.challenge", "tls-alpn-01")));
            extra.put("weldr.proxy.tls-port", Integer.toString(tlsPort));
            WeldrProcess n = WeldrProcess.create("acme-alpn", dir.resolve("alpn"), extra).start();
            closing.add(n);
            WeldrProcess.await(WAIT, n::ready, "the node to lead");
            HttpResponse<String> r = TlsIT.put(n, "/certificates/alpn", acme("alpn.weldr.test", "www.alpn.weldr.test"));
            assertEquals(202, r.statusCode(), r.body());
            awaitState(n, "alpn", "valid", WAIT);
            assertTrue(alpn.validations().containsAll(List.of(new Pebble.Validation("dns", "alpn.weldr.test"),
                    new Pebble.Validation("dns", "www.alpn.weldr.test"))), alpn::logs);
            List<X509Certificate> chain = new AcmeFixture(alpn).chain(n, "www.alpn.weldr.test");
            assertEquals(Set.of("alpn.weldr.test", "www.alpn.weldr.test"), AcmeFixture.dnsNames(chain.get(0)));
        }
    }

    private static List<String> names(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void shouldRenewUnderHttpsLoadWithoutAFailedRequest() throws Exception {
        int proxyPort = WeldrProcess.freePort();
        // Certificates of 60 s, renewed when 70% of that is left: 18 s after each is issued. Every order
        // validates afresh, so the renewal's validation can be held.
        Pebble shortLived = Pebble.start(Pebble.Options.defaults().httpPort(proxyPort).certificateValiditySeconds(60)
                .authzReusePercent(0));
        closing.add(shortLived);
        AcmeFixture t = new AcmeFixture(shortLived);
        WeldrProcess n = WeldrProcess.create("acme-renew", dir.resolve("renew"), WeldrProcess.freePort(), proxyPort,
                WeldrProcess.freePort(), AcmeFixture.settings(shortLived, Map.of("weldr.acme.renewal-window-ratio", "0.7")));
        closing.add(0, n);
        n.start();
        WeldrProcess.await(WAIT, n::ready, "the node to lead");
        int backend = backends.start("behind-renewal");
        HttpResponse<String> r = n.post("/servers", "{\"url\":\"http://127.0.0.1:" + backend + "\"}");
        assertEquals(201, r.statusCode(), r.body());
        r = TlsIT.put(n, "/certificates/shop", acme("shop.weldr.test"));
        assertEquals(202, r.statusCode(), r.body());
        awaitState(n, "shop", "valid", WAIT);
        JsonNode first = certificate(n, "shop");
        String firstPrint = first.path("fingerprint").asText();
        assertEquals(firstPrint, t.served(n, "shop.weldr.test"));

        // The renewal's validation request goes to a relay that holds it: the renewal stays under way, observably.
        HoldingRelay relay = new HoldingRelay("127.0.0.3", proxyPort, proxyPort);
        closing.add(0, relay);
        relay.hold();
        shortLived.addA("shop.weldr.test", "127.0.0.3");

        JsonNode[] renewed = new JsonNode[1];
        try (HttpsLoad load = new HttpsLoad(n.tlsPort(), "shop.weldr.test", "behind-renewal", t::fresh).start(3, 3)) {
            awaitState(n, "shop", "renewing", Duration.ofSeconds(90));
            WeldrProcess.await(WAIT, () -> relay.held() > 0, "the renewal's validation request held at the relay");
            JsonNode renewing = certificate(n, "shop");
            assertEquals("renewing", renewing.path("acme").path("state").asText(), renewing::toString);
            assertTrue(renewing.path("acme").path("order").asText().startsWith("https://127.0.0.1:" + shortLived.port() + "/my-order/"),
                    renewing::toString);
            assertEquals(firstPrint, renewing.path("fingerprint").asText(), "the current certificate is shown while renewing");
            assertTrue(renewing.path("served").asBoolean());
            assertEquals(firstPrint, t.served(n, "shop.weldr.test"), "and served");
            relay.release(proxyPort);

            WeldrProcess.await(WAIT, () -> {
                JsonNode c = certificate(n, "shop");
                renewed[0] = c;
                return c.path("acme").path("state").asText().equals("valid") && !firstPrint.equals(c.path("fingerprint").asText());
            }, "a renewed certificate");
            String next = renewed[0].path("fingerprint").asText();
            WeldrProcess.await(WAIT, () -> next.equals(t.served(n, "shop.weldr.test")), "the renewed certificate to be served");
            WeldrProcess.await(WAIT, () -> load.fingerprints.contains(next), "the load's new connections to get the renewed certificate");
            long after = load.ok.get();
            WeldrProcess.await(WAIT, () -> load.ok.get() > after + 200, "more requests after the swap");
            load.close();
            assertEquals(0, load.failed.get(), () -> "failed requests: " + load.failures);
            assertTrue(load.fingerprints.containsAll(Set.of(firstPrint, next)), load.fingerprints::toString);
            System.out.printf("renewal under load: %d requests, %d failed, %d distinct leaves on new connections%n",
                    load.ok.get(), load.failed.get(), load.fingerprints.size());
        }
        JsonNode c = renewed[0];
        assertTrue(instant(c.path("notAfter")).isAfter(instant(first.path("notAfter"))), () -> first + "\n" + c);
        assertTrue(instant(c.path("acme").path("renewAt")).isAfter(instant(first.path("acme").path("renewAt"))), c::toString);
        assertTrue(c.path("acme").path("error").isNull(), c::toString);
        assertEquals(0, c.path("acme").path("failures").asInt());
        assertTrue(n.stdout().contains("certificate shop: issued for shop.weldr.test"), n::stdout);
    }

    /** A managed certificate as seen at one time, and when that GET was sent. */
    private record Seen(Instant sent, JsonNode view) {
        int failures() {
            return view.path("acme").path("failures").asInt();
        }

        Instant nextAttempt() {
            return instant(view.path("acme").path("nextAttempt"));
        }
    }

    /**
     * Polls until each certificate has failed at least {@code attempts} times, keeping the first
     * view of each count of failures (while the state is failed).
     */
    private static Map<String, TreeMap<Integer, Seen>> failing(WeldrProcess n, int attempts, String... names) {
        Map<String, TreeMap<Integer, Seen>> seen = new java.util.HashMap<>();
        for (String name : names) {
            seen.put(name, new TreeMap<>());
        }
        WeldrProcess.await(Duration.ofSeconds(120), () -> {
            for (String name : names) {
                Instant sent = Instant.now();
                JsonNode c = certificate(n, name);
                assertNotNull(c, name + " is still stored");
                if (c.path("acme").path("state").asText().equals("failed")) {
                    Seen s = new Seen(sent, c);
                    seen.get(name).putIfAbsent(s.failures(), s);
                }
            }
            return seen.values().stream().allMatch(m -> !m.isEmpty() && m.lastKey() >= attempts);
        }, String.join(", ", names) + " to fail " + attempts + " times (seen: " + seen + ")");
        return seen;
    }

    /**
     * The failed state says why (in the CA's words), when the next attempt is, and how many failed;
     * the count grows, each next attempt is later, and the wait doubles from 1 s as the leader
     * logged it, the attempts no closer together than the waits.
     */
    private static void assertFailedAndBackingOff(WeldrProcess n, String name, TreeMap<Integer, Seen> seen, String why, int attempts) {
        Seen last = seen.lastEntry().getValue();
        for (Seen s : seen.values()) {
            assertEquals("failed", s.view().path("acme").path("state").asText());
            assertTrue(s.view().path("acme").path("error").asText().contains(why), () -> name + ": " + s.view());
            assertTrue(s.view().path("fingerprint").isNull(), "nothing issued: " + s.view());
            assertTrue(s.view().path("acme").path("order").isNull(), "no order left under way: " + s.view());
        }
        // With 4 s or more to wait, the next attempt is still ahead when the GET is answered.
        assertTrue(last.nextAttempt().isAfter(last.sent()), () -> name + ": " + last);
        Seen previous = null;
        for (Seen s : seen.values()) {
            if (previous != null) {
                assertTrue(s.nextAttempt().isAfter(previous.nextAttempt()), () -> name + ": " + seen);
            }
            previous = s;
        }
        List<AcmeFixture.Failure> logged = AcmeFixture.failures(n, name);
        assertTrue(logged.size() >= attempts, () -> name + ": " + logged + "\n" + n.stdout());
        for (int i = 0; i < attempts; i++) {
            AcmeFixture.Failure f = logged.get(i);
            assertEquals(i + 1, f.attempt(), logged::toString);
            assertEquals(1L << i, f.nextInSeconds(), () -> "retry-backoff 1s doubles: " + logged);
            assertTrue(f.why().contains(why), f::toString);
            if (i > 0) {
                AcmeFixture.Failure before = logged.get(i - 1);
                // Log times are to the millisecond, taken just after the wait was set.
                assertTrue(AcmeFixture.between(before, f) >= before.nextInSeconds() * 1000 - 250, () -> "attempts too close: " + logged);
            }
        }
    }

    @Test
    void shouldSayWhyTheCaRefusedOrCouldNotValidateAndBackOff() throws Exception {
        // The node listens on 127.0.0.1 only (WeldrProcess sets weldr.proxy.host): at 127.0.0.2 its port is closed.
        assertThrows(ConnectException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.2", node.proxyPort), 5_000);
            }
        });
        pebble.addA("away.weldr.test", "127.0.0.2");
        try {
            HttpResponse<String> r = TlsIT.put(node, "/certificates/blocked", acme("blocked.weldr.test"));
            assertEquals(202, r.statusCode(), r.body());
            r = TlsIT.put(node, "/certificates/away", acme("away.weldr.test"));
            assertEquals(202, r.statusCode(), r.body());
            Map<String, TreeMap<Integer, Seen>> seen = failing(node, 3, "blocked", "away");
            assertFailedAndBackingOff(node, "blocked", seen.get("blocked"), "the CA refused: rejectedIdentifier", 3);
            assertFailedAndBackingOff(node, "away", seen.get("away"), "connection: ", 3);
            assertTrue(certificate(node, "away").path("acme").path("error").asText().contains("127.0.0.2:" + node.proxyPort + ": connect: connection refused"));
            assertOthersUntouched(node, uploaded, "steady", steady);
        } finally {
            node.delete("/certificates/blocked");
            node.delete("/certificates/away");
            pebble.clearA("away.weldr.test");
        }
    }

    @Test
    void shouldSayTheCaCannotBeReachedAndBackOff() throws Exception {
        int closed = WeldrProcess.freePort();
        String directory = "https://127.0.0.1:" + closed + "/dir";
        WeldrProcess n = WeldrProcess.create("acme-unreachable", dir.resolve("unreachable"), Map.of(
                "weldr.acme.directory", directory, "weldr.acme.agree-tos", "true", "weldr.acme.retry-backoff", "1s"));
        closing.add(n);
        n.start();
        WeldrProcess.await(WAIT, n::ready, "the node to lead");
        TestCertificates.Issued upload = TestCertificates.leaf(UPLOAD_CA, "upload.weldr.test");
        assertEquals(200, TlsIT.put(n, "/certificates/upload", TestCertificates.body(upload)).statusCode());
        HttpResponse<String> r = TlsIT.put(n, "/certificates/site", acme("site.weldr.test"));
        assertEquals(202, r.statusCode(), r.body());
        Map<String, TreeMap<Integer, Seen>> seen = failing(n, 3, "site");
        assertFailedAndBackingOff(n, "site", seen.get("site"), "the CA cannot be reached at " + directory, 3);
        assertOthersUntouched(n, upload, null, null);
    }

    @Test
    void shouldRefuseBadRequestsWithAJsonErrorAndStoreNothing() {
        String many = IntStream.rangeClosed(1, 101).mapToObj(i -> "\"n" + i + ".weldr.test\"").collect(Collectors.joining(", "));
        TestCertificates.Issued leaf = TestCertificates.leaf(UPLOAD_CA, "bad.weldr.test");
        Map<String, String> bodies = new java.util.LinkedHashMap<>();
        bodies.put("an invalid name", acme("bad_name.weldr.test"));
        bodies.put("a name starting with a hyphen", acme("-bad.weldr.test"));
        bodies.put("a single label", acme("localhost"));
        bodies.put("a wildcard", acme("*.bad.weldr.test"));
        bodies.put("an IPv4 address", acme("127.0.0.1"));
        bodies.put("an IPv6 address", acme("::1"));
        bodies.put("no names", "{\"acme\": {\"names\": []}}");
        bodies.put("names missing", "{\"acme\": {}}");
        bodies.put("names not a list", "{\"acme\": {\"names\": \"bad.weldr.test\"}}");
        bodies.put("a name not a string", "{\"acme\": {\"names\": [42]}}");
        bodies.put("101 names", "{\"acme\": {\"names\": [" + many + "]}}");
        bodies.put("acme not an object", "{\"acme\": \"bad.weldr.test\"}");
        bodies.put("a chain with acme", "{\"chain\": " + AcmeFixture.JSON.valueToTree(leaf.chainPem()) + ", \"key\": "
                + AcmeFixture.JSON.valueToTree(leaf.keyPem()) + ", \"acme\": {\"names\": [\"bad.weldr.test\"]}}");
        bodies.put("an unknown field in acme", "{\"acme\": {\"names\": [\"bad.weldr.test\"], \"challenge\": \"dns-01\"}}");
        bodies.put("an unknown field beside acme", "{\"acme\": {\"names\": [\"bad.weldr.test\"]}, \"renew\": true}");
        bodies.put("not JSON", "{\"acme\": {\"names\": [\"bad.weldr.test\"]");
        int orders = pebble.orders().size();
        for (Map.Entry<String, String> e : bodies.entrySet()) {
            HttpResponse<String> r = TlsIT.put(node, "/certificates/bad", e.getValue());
            assertEquals(400, r.statusCode(), e.getKey() + ": " + r.body());
            assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"), e.getKey());
            JsonNode error = AcmeFixture.parse(r.body());
            assertEquals(e.getKey().equals("not JSON") ? "bad_json" : "bad_request", error.path("error").asText(), e.getKey() + ": " + r.body());
            assertFalse(error.path("message").asText().isBlank(), e.getKey() + ": " + r.body());
            assertEquals(404, node.get("/certificates/bad").statusCode(), e.getKey() + ": nothing stored");
        }
        assertFalse(node.get("/certificates").body().contains("\"bad\""), "nothing listed");
        assertEquals(orders, pebble.orders().size(), "nothing ordered");
    }

    @Test
    void shouldRefuseAcmeOnANodeWithoutAnAccountConfiguration() {
        WeldrProcess n = WeldrProcess.create("acme-none", dir.resolve("none"), Map.of());
        closing.add(n);
        n.start();
        WeldrProcess.await(WAIT, n::ready, "the node to lead");
        HttpResponse<String> r = TlsIT.put(n, "/certificates/shop", acme("shop.weldr.test"));
        assertEquals(409, r.statusCode(), r.body());
        JsonNode error = AcmeFixture.parse(r.body());
        assertEquals("acme_not_configured", error.path("error").asText(), r.body());
        assertTrue(error.path("message").asText().contains("weldr.acme.directory"), r.body());
        assertEquals(404, n.get("/certificates/shop").statusCode(), "nothing stored");
        assertEquals("{\"certificates\":[]}", n.get("/certificates").body().replace(" ", ""));
    }

    @Test
    void shouldStopAnsweringTheChallengeOfARemovedCertificate() throws Exception {
        // Pebble's request for this name goes to 127.0.0.3, where a relay holds it: the order stays pending.
        HoldingRelay relay = new HoldingRelay("127.0.0.3", node.proxyPort, node.proxyPort);
        closing.add(relay);
        relay.hold();
        pebble.addA("held.weldr.test", "127.0.0.3");
        try {
            HttpResponse<String> r = TlsIT.put(node, "/certificates/held", acme("held.weldr.test"));
            assertEquals(202, r.statusCode(), r.body());
            String[] token = new String[1];
            WeldrProcess.await(WAIT, () -> {
                for (String line : relay.requestLines()) {
                    Matcher m = TOKEN.matcher(line);
                    if (m.matches()) {
                        token[0] = m.group(1);
                        return true;
                    }
                }
                return false;
            }, "Pebble's challenge request at the relay");
            JsonNode pending = certificate(node, "held");
            assertEquals("pending", pending.path("acme").path("state").asText(), pending::toString);
            assertTrue(pending.path("acme").path("order").asText().startsWith("https://127.0.0.1:" + pebble.port() + "/"), pending::toString);

            String path = "/.well-known/acme-challenge/" + token[0];
            HttpResponse<String> answered = node.proxyGet(path);
            assertEquals(200, answered.statusCode(), answered.body());
            assertTrue(answered.body().startsWith(token[0] + "."), "the key authorization: " + answered.body());

            assertEquals(204, node.delete("/certificates/held").statusCode());
            assertEquals(404, node.get("/certificates/held").statusCode());
            HttpResponse<String> after = node.proxyGet(path);
            assertNotEquals(200, after.statusCode(), after.body());
            assertFalse(after.body().contains(token[0] + "."), after.body());

            relay.release(node.proxyPort);
            // The leader's wait on that order ends in a failure, which finds nothing to record it in.
            WeldrProcess.await(WAIT, () -> !AcmeFixture.failures(node, "held").isEmpty(), "the order for held to fail");
            assertEquals(404, node.get("/certificates/held").statusCode(), "a removed certificate stays removed");
            assertOthersUntouched(node, uploaded, "steady", steady);
        } finally {
            node.delete("/certificates/held");
            pebble.clearA("held.weldr.test");
        }
    }
}
