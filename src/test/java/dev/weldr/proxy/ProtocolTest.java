package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.JksOptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP details a reverse proxy must get right beyond plain request/response: WebSocket upgrades,
 * HTTP/1.0 clients and bodies of unknown length, transfer codings it does not understand, the
 * Date header.
 */
@QuarkusTest
class ProtocolTest extends ProxyTestBase {

    @Test
    void shouldTunnelAWebSocketToTheBackend() throws Exception {
        TestBackend backend = backend(TestBackend.options().raw(request -> request.toWebSocket().onSuccess(ws ->
                ws.textMessageHandler(message -> ws.writeTextMessage("echo " + message + " from " + request.path())))));
        addServer(backend.port());

        CompletableFuture<String> echo = new CompletableFuture<>();
        WebSocketConnectOptions options = new WebSocketConnectOptions()
                .setHost("127.0.0.1").setPort(proxyPort()).setURI("/chat");
        WebSocket ws = backendVertx.createWebSocketClient().connect(options)
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        try {
            ws.textMessageHandler(echo::complete);
            ws.writeTextMessage("hello");
            assertEquals("echo hello from /chat", echo.get(10, TimeUnit.SECONDS));
        } finally {
            ws.close();
        }
    }

    @Test
    void shouldAnswerABackendThatRefusesTheUpgradeWithItsOwnAnswer() throws Exception {
        TestBackend backend = backend(TestBackend.options().raw(request -> request.response().setStatusCode(403).end("no")));
        addServer(backend.port());
        RawHttp.Response response = connect().sendHead("GET /chat HTTP/1.1", "Host: weldr.test",
                "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==").read(false);
        assertEquals(403, response.status());
        assertEquals("no", response.text());
    }

    @Test
    void shouldStreamABodyOfUnknownLengthToAnHttp10ClientAndThenClose() throws Exception {
        TestBackend backend = backend(TestBackend.options().responder((seen, response) -> {
            response.setChunked(true);
            response.write("first part, ");
            response.end("second part");
        }));
        addServer(backend.port());
        RawHttp client = connect().readTimeout(Duration.ofSeconds(10));
        RawHttp.Response response = client.sendHead("GET / HTTP/1.0", "Host: weldr.test").read(false);
        assertEquals(200, response.status());
        assertNull(response.header("transfer-encoding"), "HTTP/1.0 has no chunked coding");
        assertNull(response.header("content-length"));
        // read(false) read until the connection closed: the end of the body is the end of the connection.
        assertEquals("first part, second part", response.text());
    }

    @Test
    void shouldRefuseATransferCodingItDoesNotUnderstand() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        RawHttp client = connect();
        client.sendHead("POST /upload HTTP/1.1", "Host: weldr.test", "Transfer-Encoding: gzip, chunked");
        client.send("3\r\nabc\r\n0\r\n\r\n");
        RawHttp.Response response = client.read(false);
        assertEquals(501, response.status(), response.text());
        assertTrue(response.text().contains("gzip"), response.text());
        assertEquals("close", response.header("connection"));
        assertEquals(0, backend.requestCount(), "nothing reached the backend");
    }

    @Test
    void shouldAddADateWhenTheBackendSentNone() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        RawHttp.Response response = connect().get("/");
        assertEquals(200, response.status());
        ZonedDateTime date = ZonedDateTime.parse(response.header("date"), DateTimeFormatter.RFC_1123_DATE_TIME);
        long skew = Math.abs(Duration.between(date.toInstant(), java.time.Instant.now()).toSeconds());
        assertTrue(skew <= 5, "Date " + response.header("date") + " is " + skew + " s off");
        assertTrue(response.header("date").matches("[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT"),
                "IMF-fixdate: " + response.header("date"));
    }

    @Test
    void shouldForwardTheBackendsDateUnchanged() throws Exception {
        String when = "Tue, 01 Jan 2030 10:00:00 GMT";
        TestBackend backend = backend(TestBackend.options().responder((seen, response) ->
                response.putHeader("Date", when).end("ok")));
        addServer(backend.port());
        RawHttp.Response response = connect().get("/");
        assertEquals(when, response.header("date"));
    }

    @Test
    void shouldTellTheClientToContinueOnceABackendIsReadyAndNotForwardTheExpectation() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        RawHttp client = connect().readTimeout(Duration.ofSeconds(5));
        client.sendHead("POST /upload HTTP/1.1", "Host: weldr.test", "Content-Length: 5", "Expect: 100-continue");
        // curl waits a second for this before sending anyway; weldr answers at once.
        RawHttp.Head interim = client.readHead();
        assertEquals(100, interim.status());
        client.send("hello");
        RawHttp.Response response = client.read(false);
        assertEquals(200, response.status());
        TestBackend.Seen seen = backend.seen().get(0);
        assertEquals("hello", seen.body().toString());
        assertNull(seen.header("expect"), "the expectation was weldr's to meet");
        // The connection goes on with the next request.
        assertEquals(200, client.get("/next").status());
    }

    @Test
    void shouldAnswerAndCloseWhenNoBackendCanTakeABodyTheClientHoldsBack() throws Exception {
        emptyPool();
        RawHttp client = connect().readTimeout(Duration.ofSeconds(5));
        client.sendHead("POST /upload HTTP/1.1", "Host: weldr.test", "Content-Length: 5", "Expect: 100-continue");
        RawHttp.Response response = client.read(false);
        assertEquals(503, response.status(), "a final answer instead of 100 Continue");
        assertEquals("close", response.header("connection"));
        assertEquals(-1, client.in().read(), "the connection is closed: the body it expected will never come");
    }

    @Test
    void shouldAnswerPipelinedRequestsInTheOrderTheyCame() throws Exception {
        // The first request is the slowest: an answer that overtook it would be the wrong one.
        TestBackend backend = backend(TestBackend.options().responder((seen, response) -> {
            long delay = seen.uri().equals("/1") ? 300 : 1;
            backendVertx.setTimer(delay, id -> response.end("answer to " + seen.uri()));
        }));
        addServer(backend.port());
        RawHttp client = connect().readTimeout(Duration.ofSeconds(10));
        client.send("GET /1 HTTP/1.1\r\nHost: weldr.test\r\n\r\n"
                + "GET /2 HTTP/1.1\r\nHost: weldr.test\r\n\r\n"
                + "POST /3 HTTP/1.1\r\nHost: weldr.test\r\nContent-Length: 4\r\n\r\nbody");
        assertEquals("answer to /1", client.read(false).text());
        assertEquals("answer to /2", client.read(false).text());
        assertEquals("answer to /3", client.read(false).text());
        assertEquals("body", backend.seen().get(2).body().toString());
    }

    @Test
    void shouldRefuseAnHttp11RequestWithoutHost() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        RawHttp client = connect().readTimeout(Duration.ofSeconds(5));
        client.send("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n");
        RawHttp.Response response = client.read(false);
        assertEquals(400, response.status(), response.text());
        assertTrue(response.text().contains("Host"), response.text());
        assertEquals(-1, client.in().read(), "the connection is closed");
        assertEquals(0, backend.requestCount());
    }

    @Test
    void shouldAnswer400AndCloseWhenTheRequestCannotBeRead() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        RawHttp client = connect().readTimeout(Duration.ofSeconds(5));
        client.send("GET / HTTP/1.1\r\nHost: weldr.test\r\nContent-Length: twelve\r\n\r\n");
        RawHttp.Response response = client.read(false);
        assertEquals(400, response.status(), response.text());
        assertEquals("close", response.header("connection"));
        assertEquals(-1, client.in().read(), "the connection is closed");
        assertEquals(0, backend.requestCount());
    }

    @Test
    void shouldAnswer431WhenTheHeadersAreTooLarge() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        RawHttp client = connect().readTimeout(Duration.ofSeconds(5));
        client.send("GET / HTTP/1.1\r\nHost: weldr.test\r\nX-Big: " + "a".repeat(Loop.MAX_HEADER_SIZE + 1) + "\r\n\r\n");
        RawHttp.Response response = client.read(false);
        assertEquals(431, response.status(), response.text());
        assertEquals(0, backend.requestCount());
    }

    /** Backends are verified by default; BackendTlsTest covers that, this the opt-out on the default pool. */
    @Test
    void shouldProxyToAnHttpsBackendWithASelfSignedCertificateWhenThePoolDoesNotVerify() throws Exception {
        HttpServer tls = backendVertx.createHttpServer(new HttpServerOptions()
                        .setSsl(true).setKeyCertOptions(selfSignedKeyStore()).setHost("127.0.0.1").setPort(0))
                .requestHandler(request -> request.response().end("secure " + request.path()))
                .listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        closeLater(() -> tls.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        given().contentType("application/json").body("{\"tls\": {\"verify\": false}}").patch("/pools/default").then().statusCode(200);
        try {
            given().contentType("application/json")
                    .body("{\"url\":\"https://127.0.0.1:" + tls.actualPort() + "\"}")
                    .post("/servers").then().statusCode(201);

            RawHttp.Response response = connect().readTimeout(Duration.ofSeconds(10)).get("/over/tls");
            assertEquals(200, response.status(), response.text());
            assertEquals("secure /over/tls", response.text());
        } finally {
            given().contentType("application/json").body("{\"tls\": {\"verify\": true}}").patch("/pools/default").then().statusCode(200);
        }
    }

    /** A key store with a fresh self-signed certificate, made by the JDK's own keytool. */
    private static JksOptions selfSignedKeyStore() throws Exception {
        Path store = Files.createTempDirectory("weldr-tls").resolve("backend.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "backend", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=localhost", "-storetype", "PKCS12", "-keystore", store.toString(),
                "-storepass", "changeit", "-keypass", "changeit")
                .redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes());
        assertTrue(keytool.waitFor(60, TimeUnit.SECONDS) && keytool.exitValue() == 0, "keytool failed: " + output);
        return new JksOptions().setPath(store.toString()).setPassword("changeit");
    }
}
