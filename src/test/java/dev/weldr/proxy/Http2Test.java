package dev.weldr.proxy;

import dev.weldr.tls.TestCertificates;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.weldr.tls.TestCertificates.body;
import static dev.weldr.tls.TestCertificates.leaf;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP/2 from clients, with real clients (Vert.x's HTTP/2 client, curl) and real HTTP/1.1
 * backends: h2c with prior knowledge on the plain listener, h2 through ALPN on the HTTPS one,
 * each stream one exchange translated for the backend per RFC 9113 §8.
 */
@QuarkusTest
class Http2Test extends ProxyTestBase {

    private static final TestCertificates.Issued CA = TestCertificates.ca("weldr h2 test root");

    @AfterEach
    void removeCertificates() {
        removeEveryCertificate();
    }

    private HttpClient h2c() {
        HttpClient client = backendVertx.createHttpClient(new HttpClientOptions()
                .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
                .setDefaultHost("127.0.0.1").setDefaultPort(proxyPort()));
        closeLater(() -> client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        return client;
    }

    private HttpClient h2() {
        given().contentType("application/json").body(body(leaf(CA, "h2.example"))).put("/certificates/h2").then().statusCode(200);
        HttpClient client = backendVertx.createHttpClient(new HttpClientOptions()
                .setProtocolVersion(HttpVersion.HTTP_2).setSsl(true).setUseAlpn(true).setTrustAll(true).setVerifyHost(false).setForceSni(true)
                .setDefaultHost("127.0.0.1").setDefaultPort(tlsPort()));
        closeLater(() -> client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        return client;
    }

    private record Answer(int status, HttpVersion version, String body, io.vertx.core.MultiMap headers) {
    }

    private static Answer send(HttpClient client, HttpMethod method, String uri, String authority, Buffer body,
                               String... headers) throws Exception {
        RequestOptions options = new RequestOptions().setMethod(method).setURI(uri);
        if (authority != null) {
            // The name goes in SNI and :authority; the connection goes to the node on loopback.
            options.setHost(authority).setServer(io.vertx.core.net.SocketAddress.inetSocketAddress(
                    client instanceof io.vertx.core.http.impl.HttpClientInternal c ? c.options().getDefaultPort() : 0, "127.0.0.1"));
        }
        for (int i = 0; i < headers.length; i += 2) {
            options.addHeader(headers[i], headers[i + 1]);
        }
        Future<Answer> answer = client.request(options).compose(req -> {
            Future<HttpClientResponse> sent = body == null ? req.send() : req.send(body);
            return sent.compose(r -> r.body().map(b -> new Answer(r.statusCode(), r.version(), b.toString(StandardCharsets.UTF_8), r.headers())));
        });
        return answer.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    @Test
    void shouldProxyH2cWithPriorKnowledgeToAnHttp11BackendTranslatingTheHeaders() throws Exception {
        TestBackend backend = closeLater(TestBackend.ok(backendVertx));
        addServer(backend.port());
        HttpClient client = h2c();
        Answer a = send(client, HttpMethod.GET, "/h2c/path?q=1", null, null,
                "cookie", "a=1", "x-custom", "yes");
        assertEquals(200, a.status());
        assertEquals(HttpVersion.HTTP_2, a.version());
        assertEquals("ok", a.body());
        assertTrue(a.headers().get("via").endsWith("1.1 weldr"), a.headers().toString());
        TestBackend.Seen seen = backend.seen().get(0);
        assertEquals("/h2c/path?q=1", seen.uri());
        assertEquals("127.0.0.1:" + proxyPort(), seen.header("host"));
        assertEquals("http", seen.header("x-forwarded-proto"));
        assertEquals("127.0.0.1", seen.header("x-forwarded-for"));
        assertEquals("2.0 weldr", seen.header("via"));
        assertEquals("yes", seen.header("x-custom"));
        assertEquals("a=1", seen.header("cookie"));
        assertNull(seen.header("te"));
    }

    @Test
    void shouldJoinCookieCrumbsAndStreamBodiesWithAndWithoutALength() throws Exception {
        TestBackend backend = closeLater(TestBackend.start(backendVertx, TestBackend.options()
                .responder((seen, response) -> response.end("got " + seen.body().length()))));
        addServer(backend.port());
        HttpClient client = h2c();
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setURI("/cookies");
        options.addHeader("cookie", "a=1");
        options.addHeader("cookie", "b=2");
        Answer cookies = client.request(options).compose(req -> req.send()
                .compose(r -> r.body().map(b -> new Answer(r.statusCode(), r.version(), b.toString(), r.headers()))))
                .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
        assertEquals(200, cookies.status());
        assertEquals("a=1; b=2", backend.seen().get(0).header("cookie"), "RFC 9113 §8.2.3: crumbs joined for HTTP/1.1");

        byte[] big = new byte[300_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) ('a' + i % 26);
        }
        Answer sized = send(client, HttpMethod.POST, "/sized", null, Buffer.buffer(big), "content-length", Integer.toString(big.length));
        assertEquals("got 300000", sized.body());
        TestBackend.Seen s = backend.seen().get(1);
        assertEquals("300000", s.header("content-length"));
        assertEquals(Buffer.buffer(big), s.body());

        // No length: the body goes to the HTTP/1.1 backend in chunks.
        Future<Answer> streamed = client.request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/streamed")).compose(req -> {
            req.setChunked(true);
            for (int i = 0; i < 3; i++) {
                req.write(Buffer.buffer(big));
            }
            return req.end().compose(v -> req.response())
                    .compose(r -> r.body().map(b -> new Answer(r.statusCode(), r.version(), b.toString(), r.headers())));
        });
        assertEquals("got 900000", streamed.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).body());
        assertTrue(backend.seen().get(2).chunked());
    }

    @Test
    void shouldServeManyStreamsOfOneConnectionAtOnce() throws Exception {
        TestBackend backend = closeLater(TestBackend.start(backendVertx, TestBackend.options()
                .responder((seen, response) -> response.end(seen.uri()))));
        addServer(backend.port());
        HttpClient client = h2c();
        List<Future<Answer>> all = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            String uri = "/stream/" + i;
            all.add(client.request(HttpMethod.GET, uri).compose(req -> req.send()
                    .compose(r -> r.body().map(b -> new Answer(r.statusCode(), r.version(), b.toString(), r.headers())))));
        }
        for (int i = 0; i < all.size(); i++) {
            Answer a = all.get(i).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(200, a.status());
            assertEquals("/stream/" + i, a.body());
        }
        assertEquals(100, backend.requestCount());
    }

    @Test
    void shouldAnswerItselfOverHttp2WhenThePoolIsEmpty() throws Exception {
        Answer a = send(h2c(), HttpMethod.GET, "/nobody", null, null);
        assertEquals(503, a.status());
        assertTrue(a.body().startsWith("503 Service Unavailable"), a.body());
        assertEquals("text/plain; charset=utf-8", a.headers().get("content-type"));
    }

    @Test
    void shouldNegotiateH2ThroughAlpnAndTellTheBackendTheRequestWasHttps() throws Exception {
        TestBackend backend = closeLater(TestBackend.ok(backendVertx));
        addServer(backend.port());
        Answer a = send(h2(), HttpMethod.GET, "/over-h2", "h2.example", null);
        assertEquals(200, a.status());
        assertEquals(HttpVersion.HTTP_2, a.version());
        TestBackend.Seen seen = backend.seen().get(0);
        assertEquals("https", seen.header("x-forwarded-proto"));
        assertEquals("h2.example:" + tlsPort(), seen.header("host"));
    }

    @Test
    void shouldBeReachedByCurlOverH2AndH2c() throws Exception {
        TestBackend backend = closeLater(TestBackend.start(backendVertx, TestBackend.options()
                .responder((seen, response) -> response.end("curl saw " + seen.uri()))));
        addServer(backend.port());
        given().contentType("application/json").body(body(leaf(CA, "h2.example"))).put("/certificates/h2").then().statusCode(200);
        String h2c = curl("--http2-prior-knowledge", "http://127.0.0.1:" + proxyPort() + "/prior");
        assertEquals("HTTP/2 200|curl saw /prior", h2c);
        String h2 = curl("--http2", "-k", "--resolve", "h2.example:" + tlsPort() + ":127.0.0.1",
                "https://h2.example:" + tlsPort() + "/alpn");
        assertEquals("HTTP/2 200|curl saw /alpn", h2);
    }

    /** curl's status line and body, as "HTTP/2 200|body". */
    private static String curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "-o", "-", "-w", "|%{http_version}|%{http_code}"));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("curl", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "curl did not end");
            String text = Files.readString(out);
            String[] parts = text.split("\\|");
            assertEquals(0, p.exitValue(), text);
            return "HTTP/" + parts[1] + " " + parts[2] + "|" + parts[0];
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
