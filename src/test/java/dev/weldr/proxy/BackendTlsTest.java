package dev.weldr.proxy;

import dev.weldr.tls.TestCertificates;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code https://} backends with real TLS servers and certificates made by the test: verified
 * against the pool's CA and the host name by default, SNI sent, the opt-out, the handshake inside
 * the connect timeout (1 s in the test profile), health checks under the same rules, and CA
 * bundles refused before anything is stored.
 *
 * <p>The proxy cases run in a pool of their own, reached by a route, whose health checks are a
 * day apart and whose outlier detection is off: a server whose certificate fails is then refused
 * by the proxy itself on every request, never taken out of the pool by a check meanwhile.
 */
@QuarkusTest
class BackendTlsTest extends ProxyTestBase {

    private static final TestCertificates.Issued CA = TestCertificates.ca("weldr backend test CA");
    private static final TestCertificates.Issued OTHER_CA = TestCertificates.ca("weldr unrelated CA");
    private static final String POOL = "tlspool";
    private static final String HOST = "tls.test";

    /** Every WARN and above logged while a test runs. */
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                warnings.add(r instanceof ExtLogRecord e ? e.getFormattedMessage() : r.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private static final List<String> LOGGERS = List.of("dev.weldr.proxy", "dev.weldr.health");

    @BeforeEach
    void poolWithoutChecksAndARouteToIt() {
        LOGGERS.forEach(l -> Logger.getLogger(l).addHandler(capture));
        removeRoutesAndExtraPools();
        given().contentType("application/json")
                .body("{\"name\": \"" + POOL + "\", \"healthCheck\": {\"interval\": \"24h\"}, \"outlier\": {\"consecutiveFailures\": 0}}")
                .post("/pools").then().statusCode(201);
        given().contentType("application/json").body("{\"host\": \"" + HOST + "\", \"pool\": \"" + POOL + "\"}")
                .put("/routes/tls").then().statusCode(200);
    }

    @AfterEach
    void removeThemAndResetTheDefaultPool() {
        LOGGERS.forEach(l -> Logger.getLogger(l).removeHandler(capture));
        removeRoutesAndExtraPools();
        patch("default", "{\"tls\": {\"verify\": true, \"ca\": null, \"serverName\": null},"
                + " \"healthCheck\": {\"timeout\": \"200ms\"}}").statusCode(200);
    }

    // ---- the proxy ----------------------------------------------------------------------------

    @Test
    void shouldVerifyABackendIssuedByThePoolsCaAndSendItsHostNameAsSni() throws Exception {
        TlsBackend backend = tlsBackend(TestCertificates.leaf(CA, "localhost"));
        patch(POOL, tls("\"ca\": " + json(CA.chainPem()))).statusCode(200)
                .body("settings.tls.verify", equalTo(true))
                .body("settings.tls.ca", equalTo(CA.chainPem()))
                .body("settings.tls.caCertificates.fingerprint", contains(CA.fingerprint()))
                .body("settings.tls.caCertificates.subject", contains("CN=weldr backend test CA"));
        addServer(POOL, "https://localhost:" + backend.port());

        assertEquals(200, request().status());
        assertEquals(List.of("localhost"), backend.proxiedSni(), "SNI names the URL's host");
    }

    @Test
    void shouldRefuseABackendWhoseCertificateNamesAnotherHost() throws Exception {
        TlsBackend backend = tlsBackend(TestCertificates.leaf(CA, "elsewhere.test"));
        patch(POOL, tls("\"ca\": " + json(CA.chainPem()))).statusCode(200);
        addServer(POOL, "https://localhost:" + backend.port());
        String id = "localhost:" + backend.port();

        for (int i = 0; i < 3; i++) {
            assertEquals(502, request().status());
        }
        assertEquals(0, backend.proxied(), "no request reached it");
        await("the failures are counted by reason", () -> tlsFailures(id, "certificate") >= 3);
        await("one warning names the server and the reason", () -> count("server " + id + " of pool " + POOL
                + ": certificate verification failed") == 1);
        assertEquals(1, count("server " + id + " of pool " + POOL), "logged once for three failures: " + warnings);
    }

    @Test
    void shouldRefuseABackendWhoseChainThePoolDoesNotTrust() throws Exception {
        TlsBackend backend = tlsBackend(TestCertificates.leaf(CA, "localhost"));
        addServer(POOL, "https://localhost:" + backend.port());
        assertEquals(502, request().status(), "not trusted by the JDK's store, and the pool has no CA");

        patch(POOL, tls("\"ca\": " + json(OTHER_CA.chainPem()))).statusCode(200);
        assertEquals(502, request().status(), "nor by another CA");
        assertEquals(0, backend.proxied());

        patch(POOL, tls("\"ca\": " + json(OTHER_CA.chainPem() + CA.chainPem()))).statusCode(200)
                .body("settings.tls.caCertificates.fingerprint", contains(OTHER_CA.fingerprint(), CA.fingerprint()));
        assertEquals(200, request().status(), "a bundle of two: the second trusts it");
    }

    @Test
    void shouldSendAndCheckThePoolsServerNameInsteadOfTheAddress() throws Exception {
        TlsBackend backend = tlsBackend(TestCertificates.leaf(CA, "api.backend.test"));
        patch(POOL, tls("\"ca\": " + json(CA.chainPem()))).statusCode(200);
        addServer(POOL, "https://127.0.0.1:" + backend.port());
        assertEquals(502, request().status(), "the certificate does not name 127.0.0.1");

        patch(POOL, tls("\"serverName\": \"API.Backend.test\"")).statusCode(200)
                .body("settings.tls.serverName", equalTo("api.backend.test"));
        assertEquals(200, request().status());
        assertEquals(List.of("api.backend.test"), backend.proxiedSni());
    }

    @Test
    void shouldNotVerifyWhenThePoolSaysSoAndWarnOnce() throws Exception {
        TlsBackend backend = tlsBackend(TestCertificates.leaf(OTHER_CA, "elsewhere.test"));
        addServer(POOL, "https://127.0.0.1:" + backend.port());
        assertEquals(502, request().status());

        patch(POOL, tls("\"verify\": false")).statusCode(200).body("settings.tls.verify", equalTo(false));
        for (int i = 0; i < 3; i++) {
            assertEquals(200, request().status(), "neither the chain nor the name is checked");
        }
        patch(POOL, "{\"limits\": {\"retries\": 2}}").statusCode(200).body("settings.tls.verify", equalTo(false));
        assertEquals(200, request().status());
        assertEquals(1, count("pool " + POOL + ": the TLS certificates of its https:// servers are not verified"),
                "one warning, when the setting was applied: " + warnings);
        assertEquals(java.util.Collections.singletonList(null), backend.proxiedSni().subList(0, 1),
                "no SNI for an address (RFC 6066)");
    }

    @Test
    void shouldBoundAHandshakeThatNeverEndsByTheConnectTimeout() throws Exception {
        // Two servers that take the TCP connection and never answer the ClientHello: the request
        // is retried on the second, and the client is told the backends timed out.
        SilentServer one = closeLater(new SilentServer());
        SilentServer two = closeLater(new SilentServer());
        addServer(POOL, "https://127.0.0.1:" + one.port());
        addServer(POOL, "https://127.0.0.1:" + two.port());
        RawHttp.Response r = request();
        assertEquals(504, r.status(), r.text());
        assertEquals(1, tlsFailures("127.0.0.1:" + one.port(), "timeout"));
        assertEquals(1, tlsFailures("127.0.0.1:" + two.port(), "timeout"));
        await("each took one TCP connection: the handshakes were what never ended",
                () -> one.accepted.size() == 1 && two.accepted.size() == 1);
        assertEquals(0, count("server 127.0.0.1:"), "a timeout is not a certificate to warn about: " + warnings);
    }

    // ---- health checks ------------------------------------------------------------------------

    @Test
    void shouldCheckHealthWithThePoolsTlsSetting() throws Exception {
        // The profile's 200 ms check timeout would take a handshake slowed by a busy machine for a
        // failed one, and the down line would give that reason instead of the certificate's.
        patch("default", "{\"healthCheck\": {\"timeout\": \"5s\"}}").statusCode(200);
        TlsBackend backend = tlsBackend(TestCertificates.leaf(CA, "localhost"));
        given().contentType("application/json").body("{\"url\": \"https://localhost:" + backend.port() + "\"}")
                .post("/servers").then().statusCode(201);
        String id = "localhost:" + backend.port();
        await("a server the pool does not trust is marked down", () -> "down".equals(
                given().get("/servers/localhost/" + backend.port()).then().extract().jsonPath().getString("state")));
        await("the reason is in the down line", () -> warnings.stream().anyMatch(w -> w.startsWith("server " + id + " of pool default is down")
                && w.contains("certificate verification failed")));

        patch("default", tls("\"ca\": " + json(CA.chainPem()))).statusCode(200);
        await("trusted, it comes back", () -> "active".equals(
                given().get("/servers/localhost/" + backend.port()).then().extract().jsonPath().getString("state")));
        assertTrue(backend.checkSni.contains("localhost"), "the checks send SNI too: " + backend.checkSni);

        patch("default", tls("\"serverName\": \"api.backend.test\"")).statusCode(200);
        await("checked under the pool's server name, which the certificate does not hold, it goes down again", () -> "down".equals(
                given().get("/servers/localhost/" + backend.port()).then().extract().jsonPath().getString("state")));
        await("the down line says it was checked against that name", () -> warnings.stream().anyMatch(w ->
                w.startsWith("server " + id + " of pool default is down") && w.contains("No subject alternative DNS name matching api.backend.test")));
    }

    // ---- the API ------------------------------------------------------------------------------

    @Test
    void shouldRefuseABadCaBundleAndChangeNothing() {
        patch(POOL, tls("\"ca\": " + json(CA.chainPem()) + ", \"serverName\": \"api.test\"")).statusCode(200);
        for (String bad : List.of("\"\"", "\"not PEM at all\"",
                json("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"),
                json(CA.keyPem()), "42")) {
            patch(POOL, tls("\"verify\": false, \"ca\": " + bad)).statusCode(400)
                    .body("error", equalTo(bad.equals("42") ? "bad_request" : "invalid_certificate"))
                    .body("message", bad.equals("42") ? equalTo("ca must be a string") : org.hamcrest.Matchers.startsWith("tls.ca: "));
        }
        patch(POOL, tls("\"serverName\": \"not a name\"")).statusCode(400).body("error", equalTo("bad_request"));
        patch(POOL, tls("\"serverName\": \"10.0.0.1\"")).statusCode(400);
        patch(POOL, tls("\"pin\": \"x\"")).statusCode(400).body("message", equalTo("unknown field 'tls.pin'"));
        String huge = CA.chainPem().repeat(70_000 / CA.chainPem().length() + 1);
        patch(POOL, tls("\"ca\": " + json(huge))).statusCode(413);

        given().get("/pools/" + POOL).then().statusCode(200)
                .body("settings.tls.verify", equalTo(true))
                .body("settings.tls.ca", equalTo(CA.chainPem()))
                .body("settings.tls.serverName", equalTo("api.test"));
        patch(POOL, tls("\"ca\": null, \"serverName\": null")).statusCode(200)
                .body("settings.tls.ca", nullValue()).body("settings.tls.serverName", nullValue());
    }

    @Test
    void shouldVerifyTheBackendsOfANewPoolByDefault() {
        given().get("/pools/" + POOL).then().statusCode(200)
                .body("settings.tls.verify", equalTo(true))
                .body("settings.tls.ca", nullValue())
                .body("settings.tls.serverName", nullValue());
    }

    // ---- helpers ------------------------------------------------------------------------------

    private RawHttp.Response request() throws IOException {
        try (RawHttp client = RawHttp.connect(proxyPort())) {
            return client.sendHead("GET /tls HTTP/1.1", "Host: " + HOST).read(false);
        }
    }

    private static io.restassured.response.ValidatableResponse patch(String pool, String body) {
        return given().contentType("application/json").body(body).patch("/pools/" + pool).then();
    }

    private static String tls(String fields) {
        return "{\"tls\": {" + fields + "}}";
    }

    private static void addServer(String pool, String url) {
        given().contentType("application/json").body("{\"url\": \"" + url + "\"}")
                .post("/pools/" + pool + "/servers").then().statusCode(201);
    }

    private long count(String prefix) {
        return warnings.stream().filter(w -> w.startsWith(prefix)).count();
    }

    private static double tlsFailures(String server, String reason) {
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        double total = 0;
        for (String line : metrics.split("\n")) {
            if (line.startsWith("weldr_backend_tls_failures_total{") && line.contains("reason=\"" + reason + "\"")
                    && line.contains("server=\"" + server + "\"")) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    private static String json(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    private TlsBackend tlsBackend(TestCertificates.Issued leaf) throws Exception {
        return closeLater(new TlsBackend(leaf));
    }

    /** Takes TCP connections on 127.0.0.1 and never reads from them. */
    private static final class SilentServer implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final List<Socket> accepted = new CopyOnWriteArrayList<>();

        SilentServer() throws IOException {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(socket.accept());
                    }
                } catch (IOException closed) {
                    // closed by the test
                }
            }, "silent-server");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (Socket s : accepted) {
                s.close();
            }
        }
    }

    /** A Vert.x HTTPS server on 127.0.0.1 with the given leaf; records the SNI of every request. */
    private static final class TlsBackend implements AutoCloseable {
        final HttpServer server;
        final ConcurrentLinkedQueue<String> proxySni = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<String> checkSni = new ConcurrentLinkedQueue<>();

        TlsBackend(TestCertificates.Issued leaf) throws Exception {
            server = backendVertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
                    .setSsl(true).setSni(true)
                    .setKeyCertOptions(new PemKeyCertOptions().setCertValue(Buffer.buffer(leaf.chainPem()))
                            .setKeyValue(Buffer.buffer(leaf.keyPem()))));
            server.requestHandler(req -> {
                String sni = req.connection().indicatedServerName();
                if (TestBackend.HEALTH_CHECK_AGENT.equals(req.getHeader("user-agent"))) {
                    checkSni.add(String.valueOf(sni));
                } else {
                    proxySni.add(sni == null ? "<none>" : sni);
                }
                req.response().end("ok");
            });
            server.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }

        int port() {
            return server.actualPort();
        }

        int proxied() {
            return proxySni.size();
        }

        /** The SNI of each proxied request, null where none was sent. */
        List<String> proxiedSni() {
            return proxySni.stream().map(s -> s.equals("<none>") ? null : s).toList();
        }

        @Override
        public void close() throws Exception {
            server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
