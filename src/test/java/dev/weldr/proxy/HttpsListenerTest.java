package dev.weldr.proxy;

import dev.weldr.tls.CertificateStore;
import dev.weldr.tls.TestCertificates;
import dev.weldr.tls.TlsClient;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import io.restassured.response.ValidatableResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static dev.weldr.tls.TestCertificates.body;
import static dev.weldr.tls.TestCertificates.leaf;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The HTTPS listener with real TLS: certificates uploaded through the API, chosen by SNI, swapped
 * under load, and clients that do not speak TLS 1.2+ refused. The test profile names
 * {@code fallback} as the default certificate; no test leaves a certificate behind.
 */
@QuarkusTest
class HttpsListenerTest extends ProxyTestBase {

    private static final TestCertificates.Issued CA = TestCertificates.ca("weldr test root");
    private static final TestCertificates.Issued INTERMEDIATE = TestCertificates.intermediate(CA, "weldr test intermediate");
    private static final SSLContext CLIENT = TlsClient.trusting(CA.certificate());

    @Inject
    CertificateStore certificates;

    @AfterEach
    void removeCertificates() {
        removeEveryCertificate();
    }

    private static ValidatableResponse put(String name, String body) {
        return given().contentType("application/json").body(body).put("/certificates/" + name).then();
    }

    private SSLSocket connect(String serverName) throws IOException {
        return closeLater(TlsClient.connect(CLIENT, tlsPort(), serverName, true));
    }

    private String servedTo(String serverName, boolean checkName) throws Exception {
        try (SSLSocket s = TlsClient.connect(CLIENT, tlsPort(), serverName, checkName)) {
            return TlsClient.served(s);
        }
    }

    @Test
    void shouldServeTheCertificateNamingTheHostAndTellTheBackendTheRequestWasHttps() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        TestCertificates.Issued shop = leaf(INTERMEDIATE, "shop.example", "*.shop.example");
        put("shop", body(shop)).statusCode(200)
                .body("name", equalTo("shop"))
                .body("names", contains("shop.example", "*.shop.example"))
                .body("issuer", equalTo("CN=weldr test intermediate"))
                .body("fingerprint", equalTo(shop.fingerprint()))
                .body("keyType", equalTo("ECDSA P-256"))
                .body("served", equalTo(true))
                .body("$", not(hasKey("key")));
        given().get("/certificates/shop").then().statusCode(200).body("notAfter", startsWith(
                shop.certificate().getNotAfter().toInstant().toString().substring(0, 16)));
        String keyBody = shop.keyPem().split("\n")[1];
        assertFalse(given().get("/certificates").asString().contains(keyBody), "the key is never returned");
        assertFalse(given().get("/certificates/shop").asString().contains(keyBody), "the key is never returned");

        SSLSocket socket = connect("cart.shop.example");
        assertEquals(shop.fingerprint(), TlsClient.served(socket));
        assertEquals("http/1.1", socket.getApplicationProtocol(), "a client offering only HTTP/1.1 gets it");
        assertTrue(Set.of("TLSv1.3", "TLSv1.2").contains(socket.getSession().getProtocol()));
        RawHttp https = RawHttp.over(socket);
        for (int i = 0; i < 3; i++) {
            https.sendHead("GET /over-tls HTTP/1.1", "Host: cart.shop.example");
            RawHttp.Response r = https.read(false);
            assertEquals(200, r.status(), r.text());
        }
        assertEquals(3, backend.requestCount());
        TestBackend.Seen seen = backend.seen().get(0);
        assertEquals(List.of("https"), seen.headers().getAll("x-forwarded-proto"));
        assertEquals("cart.shop.example", seen.header("host"));

        assertEquals(200, connect().get("/plain").status());
        assertEquals(List.of("http"), backend.seen().get(3).headers().getAll("x-forwarded-proto"));
    }

    /** The provider the node must be using: {@code auto} picks OpenSSL wherever netty-tcnative loads. */
    SslProvider expectedProvider() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    @Test
    void shouldUseTheConfiguredProviderAndPreferTheServersCipherOrderToTheClients() throws Exception {
        assertEquals(expectedProvider(), certificates.provider());
        put("shop", body(leaf(INTERMEDIATE, "shop.example"))).statusCode(200);
        // The client asks for AES-256, then ChaCha20, then AES-128; weldr's order (Mozilla's) puts AES-128 first.
        List<String> clientOrder = List.of("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
        try (SSLSocket s = TlsClient.connect(CLIENT, tlsPort(), "shop.example", true, clientOrder, "TLSv1.2")) {
            assertEquals("TLSv1.2", s.getSession().getProtocol());
            assertEquals("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", s.getSession().getCipherSuite());
            assertEquals("http/1.1", s.getApplicationProtocol());
        }
        try (SSLSocket s = TlsClient.connect(CLIENT, tlsPort(), "shop.example", true, clientOrder.subList(0, 2), "TLSv1.2")) {
            assertEquals("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", s.getSession().getCipherSuite(),
                    "without AES-128, the next of the server's list");
        }
    }

    @Test
    void shouldDocumentTheCertificatesInOpenApi() {
        java.util.Map<String, Object> paths = given().get("/q/openapi?format=json").then().statusCode(200)
                .extract().jsonPath().getMap("paths");
        assertTrue(paths.containsKey("/certificates") && paths.containsKey("/certificates/{name}"), paths.keySet().toString());
    }

    @Test
    void shouldPreferTheExactNameThenTheWildcardThenTheDefaultCertificate() throws Exception {
        TestCertificates.Issued wildcard = leaf(INTERMEDIATE, "*.shop.example");
        TestCertificates.Issued www = leaf(INTERMEDIATE, "www.shop.example");
        TestCertificates.Issued fallback = leaf(INTERMEDIATE, "fallback.example");
        put("wildcard", body(wildcard)).statusCode(200);
        put("www", body(www)).statusCode(200);

        assertEquals(www.fingerprint(), servedTo("www.shop.example", true));
        assertEquals(wildcard.fingerprint(), servedTo("cart.shop.example", true));
        assertEquals(wildcard.fingerprint(), servedTo("CART.Shop.Example", true));
        SSLHandshakeException refused = assertThrows(SSLHandshakeException.class, () -> servedTo("elsewhere.example", false));
        assertTrue(refused.getMessage().contains("unrecognized_name"), refused.getMessage());
        assertThrows(SSLHandshakeException.class, () -> servedTo("a.b.shop.example", false), "a wildcard covers one label");

        put("fallback", body(fallback)).statusCode(200);
        assertEquals(fallback.fingerprint(), servedTo("elsewhere.example", false));
        assertEquals(fallback.fingerprint(), servedTo(null, false), "a client that names no host gets the default");
        assertEquals(www.fingerprint(), servedTo("www.shop.example", true));

        given().delete("/certificates/fallback").then().statusCode(204);
        refused = assertThrows(SSLHandshakeException.class, () -> servedTo("elsewhere.example", false));
        assertTrue(refused.getMessage().contains("unrecognized_name"), refused.getMessage());
        refused = assertThrows(SSLHandshakeException.class, () -> servedTo(null, false));
        assertTrue(refused.getMessage().contains("handshake_failure"), "no name, no default: " + refused.getMessage());
        given().delete("/certificates/fallback").then().statusCode(404).body("error", equalTo("not_found"));
    }

    @Test
    void shouldRefuseAnInvalidCertificateAndStoreNothing() {
        TestCertificates.Issued good = leaf(INTERMEDIATE, "shop.example");
        TestCertificates.Issued other = leaf(INTERMEDIATE, "shop.example");
        var keys = TestCertificates.ec("secp256r1");
        TestCertificates.Issued expired = leaf(INTERMEDIATE, keys, Instant.now().minus(Duration.ofDays(9)),
                Instant.now().minus(Duration.ofDays(2)), "shop.example");
        TestCertificates.Issued early = leaf(INTERMEDIATE, keys, Instant.now().plus(Duration.ofDays(2)),
                Instant.now().plus(Duration.ofDays(9)), "shop.example");
        TestCertificates.Issued badName = leaf(INTERMEDIATE, "shop..example");
        String outOfOrder = TestCertificates.pem(good.certificate()) + TestCertificates.pem(CA.certificate());
        record Case(String body, String code, String message) {
        }
        List<Case> cases = List.of(
                new Case(body("garbage", good.keyPem()), "invalid_certificate", "chain: no PEM CERTIFICATE block found"),
                new Case(body(good.chainPem(), "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n"),
                        "invalid_certificate", "key: not valid PEM"),
                new Case(body(good.chainPem(), other.keyPem()), "invalid_certificate", "key: does not match the leaf"),
                new Case(body(expired), "invalid_certificate", "chain: the leaf certificate expired on"),
                new Case(body(early), "invalid_certificate", "chain: the leaf certificate is not valid yet"),
                new Case(body(outOfOrder, good.keyPem()), "invalid_certificate", "chain: out of order: certificate 2 (CN=weldr test root)"),
                new Case(body(badName), "invalid_certificate", "chain: the leaf names 'shop..example', which is neither a DNS name nor a wildcard"),
                new Case("{\"chain\": 1}", "bad_request", "chain must be a string"),
                new Case("{\"chain\": \"x\"}", "bad_request", "key is required"),
                new Case("{\"chain\": \"x\", \"key\": \"y\", \"password\": \"z\"}", "bad_request", "unknown field 'password'"),
                new Case("{", "bad_json", "the body is not valid JSON"));
        for (Case c : cases) {
            put("shop", c.body()).statusCode(400).body("error", equalTo(c.code())).body("message", startsWith(c.message()));
            given().get("/certificates/shop").then().statusCode(404);
        }
        put("Bad Name", body(good)).statusCode(400).body("message", startsWith("a certificate name is 1 to 63"));
        put("shop", "{\"chain\": \"" + "A".repeat(70_000) + "\", \"key\": \"k\"}").statusCode(413);
        given().get("/certificates").then().statusCode(200).body("certificates", org.hamcrest.Matchers.empty());
    }

    @Test
    void shouldRefusePlainHttpATls10ClientAndAClientThatNeverFinishesItsHandshake() throws Exception {
        put("shop", body(leaf(INTERMEDIATE, "shop.example"))).statusCode(200);

        try (Socket plain = raw()) {
            plain.getOutputStream().write("GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] answer = readUntilClosed(plain);
            String text = new String(answer, StandardCharsets.ISO_8859_1);
            // nginx's answer: a 400 saying why, then the end of the connection.
            assertTrue(text.startsWith("HTTP/1.1 400 Bad Request\r\n") && text.contains("sent to the HTTPS port"), text);
        }
        try (Socket tls10 = raw()) {
            tls10.getOutputStream().write(clientHello(0x0301, "shop.example"));
            byte[] answer = readUntilClosed(tls10);
            assertTrue(answer.length >= 7, "an alert, then the end of the connection");
            assertEquals(0x15, answer[0], "a TLS alert record");
            assertArrayEquals(new byte[]{2, 70}, new byte[]{answer[5], answer[6]}, "fatal protocol_version");
        }
        try (Socket silent = raw()) {
            assertEquals(0, readUntilClosed(silent).length, "closed after weldr.tls.handshake-timeout");
        }
        try (Socket half = raw()) {
            byte[] hello = clientHello(0x0303, "shop.example");
            half.getOutputStream().write(hello, 0, 20);
            assertEquals(0, readUntilClosed(half).length, "closed after weldr.tls.handshake-timeout");
        }
        assertTrue(servedTo("shop.example", true).length() > 0, "the listener still serves");
    }

    @Test
    void shouldRefuseARenegotiationTheClientStarts() throws Exception {
        TestBackend backend = shopForOpenssl();
        // s_client renegotiates (TLS 1.2) when a line "R" comes in on its input; the JDK's client does not.
        Process p = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + tlsPort(),
                "-servername", "shop.example", "-tls1_2").redirectErrorStream(true).start();
        StringBuffer out = new StringBuffer();
        Thread reader = new Thread(() -> {
            try (InputStream in = p.getInputStream()) {
                byte[] b = new byte[4096];
                for (int n; (n = in.read(b)) > 0; ) {
                    out.append(new String(b, 0, n, StandardCharsets.ISO_8859_1));
                }
            } catch (IOException e) {
                // the process ended
            }
        });
        reader.start();
        try (OutputStream in = p.getOutputStream()) {
            in.write("GET /before HTTP/1.1\r\nHost: shop.example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            in.flush();
            await("the first request's answer", () -> out.indexOf("HTTP/1.1 200") >= 0);
            in.write("R\n".getBytes(StandardCharsets.US_ASCII));
            in.flush();
            // As nginx does, weldr answers the new ClientHello with a fatal alert and ends the connection.
            assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "the connection was still open after the renegotiation: " + out);
        } finally {
            p.destroy();
        }
        reader.join(30_000);
        assertTrue(out.indexOf("RENEGOTIATING") >= 0, out.toString());
        // Not asserted: s_client printing the alert. The server closes right after it, and s_client
        // may meet that close (a reset, when its own bytes were still unread) before it reads it.
        assertEquals(1, backend.requestCount());
        assertTrue(servedTo("shop.example", true).length() > 0, "the listener still serves");
    }

    @Test
    void shouldResumeASessionAndKeepSessionsOfACertificateWhileAnotherChanges() throws Exception {
        put("shop", body(leaf(INTERMEDIATE, "shop.example"))).statusCode(200);
        SSLContext client = TlsClient.trusting(CA.certificate());
        byte[] first;
        try (SSLSocket s = TlsClient.connect(client, tlsPort(), "shop.example", true, "TLSv1.2")) {
            first = s.getSession().getId();
        }
        put("blog", body(leaf(INTERMEDIATE, "blog.example"))).statusCode(200);
        try (SSLSocket s = TlsClient.connect(client, tlsPort(), "shop.example", true, "TLSv1.2")) {
            assertTrue(first.length > 0);
            assertArrayEquals(first, s.getSession().getId(), "the session was resumed");
        }
    }

    @Test
    void shouldResumeATls13SessionWithItsTicketInOpenSsl() throws Exception {
        TestBackend backend = shopForOpenssl();
        java.nio.file.Path session = java.nio.file.Files.createTempFile(java.nio.file.Path.of("target"), "tls13", ".session");
        String first = openssl("-sess_out", session.toString());
        assertTrue(first.contains("New, TLSv1.3") && first.contains("HTTP/1.1 200"), first);
        String second = openssl("-sess_in", session.toString());
        assertTrue(second.contains("Reused, TLSv1.3") && second.contains("HTTP/1.1 200"), second);
        java.nio.file.Files.delete(session);
    }

    /** For a test that speaks through {@code openssl s_client}: a backend, and certificate shop for shop.example. */
    private TestBackend shopForOpenssl() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/bin/openssl")),
                "openssl is not installed");
        TestBackend backend = backend();
        addServer(backend.port());
        put("shop", body(leaf(INTERMEDIATE, "shop.example"))).statusCode(200);
        return backend;
    }

    /** One request through {@code openssl s_client} over TLS 1.3; it reads until weldr closes the connection. */
    private String openssl(String... sessionOptions) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + tlsPort(),
                "-servername", "shop.example", "-tls1_3", "-ign_eof"));
        command.addAll(List.of(sessionOptions));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write("GET /openssl HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "openssl did not finish");
        return out;
    }

    @Test
    void shouldSwapTheCertificateTenTimesUnderLoadWithoutAFailedRequest() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        TestCertificates.Issued first = leaf(INTERMEDIATE, "shop.example");
        put("shop", body(first)).statusCode(200);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong requests = new AtomicLong();
        AtomicLong[] perConnection = {new AtomicLong(), new AtomicLong(), new AtomicLong()};
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        List<SSLSocket> kept = new ArrayList<>();
        for (AtomicLong count : perConnection) {
            SSLSocket socket = connect("shop.example");
            kept.add(socket);
            RawHttp http = RawHttp.over(socket);
            threads.add(new Thread(() -> load(stop, failures, () -> {
                http.sendHead("GET /kept HTTP/1.1", "Host: shop.example");
                check(http.read(false));
                count.incrementAndGet();
                requests.incrementAndGet();
            }), "kept-alive"));
        }
        for (int i = 0; i < 2; i++) {
            threads.add(new Thread(() -> load(stop, failures, () -> {
                try (SSLSocket s = TlsClient.connect(CLIENT, tlsPort(), "shop.example", true)) {
                    RawHttp http = RawHttp.over(s);
                    http.sendHead("GET /new HTTP/1.1", "Host: shop.example", "Connection: close");
                    check(http.read(false));
                    requests.incrementAndGet();
                }
            }), "new-connections"));
        }
        threads.forEach(Thread::start);
        try {
            for (int i = 0; i < 10; i++) {
                long before = requests.get();
                await("requests go on between two swaps", () -> requests.get() >= before + 20 || !failures.isEmpty());
                TestCertificates.Issued next = leaf(INTERMEDIATE, "shop.example");
                put("shop", body(next)).statusCode(200);
                assertEquals(next.fingerprint(), servedTo("shop.example", true), "the next handshake gets the new certificate");
            }
            long[] atLastSwap = {perConnection[0].get(), perConnection[1].get(), perConnection[2].get()};
            await("every kept-alive connection goes on after the last swap", () -> !failures.isEmpty()
                    || perConnection[0].get() > atLastSwap[0] && perConnection[1].get() > atLastSwap[1] && perConnection[2].get() > atLastSwap[2]);
        } finally {
            stop.set(true);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }
        assertTrue(failures.isEmpty(), "failed requests: " + failures);
        for (SSLSocket s : kept) {
            assertEquals(first.fingerprint(), TlsClient.served(s), "a connection keeps the certificate it was opened with");
        }
        assertTrue(requests.get() > 200, "requests: " + requests.get());
        System.out.printf("HTTPS hot swap: 10 replacements, %d requests (3 kept-alive connections, 2 clients opening one per request), 0 failed%n",
                requests.get());
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void load(AtomicBoolean stop, ConcurrentLinkedQueue<Throwable> failures, Step step) {
        while (!stop.get()) {
            try {
                step.run();
            } catch (Throwable e) {
                failures.add(e);
                return;
            }
        }
    }

    private static void check(RawHttp.Response r) {
        if (r.status() != 200) {
            throw new AssertionError("status " + r.status() + ": " + r.text());
        }
    }



    /** A minimal ClientHello of that version (no supported_versions extension) naming the host. */
    static byte[] clientHello(int version, String host) throws IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        b.write(version >> 8);
        b.write(version);
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        b.write(random);
        b.write(0);
        b.write(new byte[]{0, 4, 0x00, 0x2f, (byte) 0xc0, 0x13});
        b.write(new byte[]{1, 0});
        byte[] name = host.getBytes(StandardCharsets.US_ASCII);
        java.io.ByteArrayOutputStream ext = new java.io.ByteArrayOutputStream();
        ext.write(new byte[]{0, 0});
        u16(ext, name.length + 5);
        u16(ext, name.length + 3);
        ext.write(0);
        u16(ext, name.length);
        ext.write(name);
        u16(b, ext.size());
        b.write(ext.toByteArray());
        byte[] body = b.toByteArray();
        java.io.ByteArrayOutputStream record = new java.io.ByteArrayOutputStream();
        record.write(new byte[]{0x16, 0x03, 0x01});
        u16(record, body.length + 4);
        record.write(1);
        record.write(body.length >> 16);
        u16(record, body.length & 0xffff);
        record.write(body);
        return record.toByteArray();
    }

    private static void u16(OutputStream out, int v) throws IOException {
        out.write(v >> 8);
        out.write(v);
    }
}
