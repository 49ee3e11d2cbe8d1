package dev.weldr.proxy;

import dev.weldr.grpc.GrpcFixture;
import dev.weldr.grpc.GrpcFixture.Answers;
import dev.weldr.tls.TestCertificates;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * gRPC end to end through weldr: grpc-java clients and servers (the {@link GrpcFixture}) with
 * weldr between them, its pool speaking h2c or h2 to the server, each call one stream.
 */
@QuarkusTest
class GrpcProxyTest extends ProxyTestBase {

    private static final long WAIT_S = 30;
    private static final String POOL = "grpc";
    private static final String HEALTH = "\"healthCheck\":{\"mode\":\"grpc\",\"interval\":\"200ms\",\"timeout\":\"2s\"}";

    @BeforeEach
    @AfterEach
    void noRoutesNorExtraPools() {
        removeRoutesAndExtraPools();
    }

    private static void pool(String settings) {
        given().contentType("application/json").body("{\"name\":\"" + POOL + "\"," + settings + "}").post("/pools").then().statusCode(201);
        given().contentType("application/json").body("{\"pathPrefix\":\"/weldr.test.Fixture/\",\"pool\":\"" + POOL + "\"}")
                .put("/routes/grpc").then().statusCode(200);
    }

    private static void add(String url, int port) {
        given().contentType("application/json").body("{\"url\":\"" + url + "\"}").post("/pools/" + POOL + "/servers").then().statusCode(201);
        await("server " + port + " is active", () -> "active".equals(
                given().get("/pools/" + POOL + "/servers/127.0.0.1/" + port).then().statusCode(200).extract().path("state")));
    }

    private GrpcFixture h2cServer() throws Exception {
        GrpcFixture server = closeLater(GrpcFixture.plain());
        pool("\"protocol\":\"h2c\"," + HEALTH);
        add("http://127.0.0.1:" + server.port(), server.port());
        return server;
    }

    /** A gRPC client of weldr's plain listener (h2c with prior knowledge). */
    private ManagedChannel channel() {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", proxyPort(), InsecureChannelCredentials.create()).build();
        closeLater(() -> channel.shutdownNow().awaitTermination(WAIT_S, TimeUnit.SECONDS));
        return channel;
    }

    @Test
    void shouldCallEveryKindThroughAnH2cPool() throws Exception {
        h2cServer();
        everyCallKind(channel());
    }

    @Test
    void shouldCallEveryKindThroughAnH2PoolOverTls() throws Exception {
        TestCertificates.Issued ca = TestCertificates.ca("weldr gRPC proxy CA");
        GrpcFixture server = closeLater(GrpcFixture.tls(TestCertificates.leaf(ca, "grpc.backend.test")));
        pool("\"protocol\":\"h2\"," + HEALTH + ",\"tls\":{\"ca\":" + json(ca.chainPem()) + ",\"serverName\":\"grpc.backend.test\"}");
        add("https://127.0.0.1:" + server.port(), server.port());
        everyCallKind(channel());
    }

    @Test
    void shouldPassAFailuresStatusDescriptionAndTrailersIntact() throws Exception {
        h2cServer();
        ManagedChannel channel = channel();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel, GrpcFixture.FAIL, CallOptions.DEFAULT, "NOT_FOUND|no such order: 100% gone"));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertEquals("no such order: 100% gone", e.getStatus().getDescription());
        assertEquals("failed:NOT_FOUND|no such order: 100% gone", e.getTrailers().get(GrpcFixture.DETAIL));
        assertArrayEquals("NOT_FOUND|no such order: 100% gone".getBytes(StandardCharsets.UTF_8), e.getTrailers().get(GrpcFixture.DETAIL_BIN));
    }

    @Test
    void shouldEndACallWhoseDeadlinePassesWithDeadlineExceededAndCancelItOnTheServer() throws Exception {
        GrpcFixture server = h2cServer();
        // A client that sends grpc-timeout but does not act on it itself: what it gets is weldr's doing.
        HttpClient client = backendVertx.createHttpClient(new HttpClientOptions()
                .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false).setDefaultHost("127.0.0.1").setDefaultPort(proxyPort()));
        closeLater(() -> client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setURI("/weldr.test.Fixture/Wait")
                .addHeader("content-type", "application/grpc").addHeader("te", "trailers").addHeader("grpc-timeout", "300m");
        Map<String, String> got = client.request(options)
                .compose(req -> req.send(Buffer.buffer(message("x"))))
                .compose(r -> r.body().map(body -> {
                    Map<String, String> all = new LinkedHashMap<>();
                    all.put(":status", Integer.toString(r.statusCode()));
                    r.headers().forEach(h -> all.put(h.getKey(), h.getValue()));
                    r.trailers().forEach(h -> all.put("trailer " + h.getKey(), h.getValue()));
                    all.put("body length", Integer.toString(body.length()));
                    return all;
                }))
                .toCompletionStage().toCompletableFuture().get(WAIT_S, TimeUnit.SECONDS);
        assertEquals("200", got.get(":status"), got.toString());
        assertEquals("4", got.get("grpc-status"), "DEADLINE_EXCEEDED, trailers-only: " + got);
        assertEquals("0", got.get("body length"), got.toString());
        assertTrue(server.waitCancelled.await(WAIT_S, TimeUnit.SECONDS), "the call ended on the server at its deadline");
        long left = server.waitDeadlineNanos.get();
        assertTrue(left > 0 && left <= TimeUnit.MILLISECONDS.toNanos(300), "the server got the deadline: " + left);

        // And a grpc-java client's own deadline ends the call as it should, through weldr.
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(
                channel(), GrpcFixture.WAIT, CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS), "y"));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    }

    /** The test profile's read timeout is 1 s: a call with a longer deadline may be quiet for longer. */
    @Test
    void shouldNotCutACallWithinItsDeadlineAfterTheReadTimeout() throws Exception {
        GrpcFixture server = h2cServer();
        ManagedChannel channel = channel();
        CompletableFuture<String> answer = CompletableFuture.supplyAsync(() -> ClientCalls.blockingUnaryCall(
                channel, GrpcFixture.WAIT, CallOptions.DEFAULT.withDeadlineAfter(WAIT_S, TimeUnit.SECONDS), "x"));
        assertTrue(server.waitArrived.await(WAIT_S, TimeUnit.SECONDS));
        long arrived = System.nanoTime();
        // Three read timeouts of silence: the point of the test, not a synchronisation.
        await("three read timeouts passed", () -> answer.isDone() || System.nanoTime() - arrived > TimeUnit.SECONDS.toNanos(3));
        assertFalse(answer.isDone(), "the call was ended before its deadline: " + answer);
        server.release.complete(null);
        assertEquals("released", answer.get(WAIT_S, TimeUnit.SECONDS));
        assertEquals(1, server.waitCancelled.getCount(), "not cancelled");
    }

    @Test
    void shouldAnswerUnavailableWhenThePoolHasNoServerOrItsServerIsGone() throws Exception {
        pool("\"protocol\":\"h2c\"");
        ManagedChannel channel = channel();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel, GrpcFixture.UNARY, CallOptions.DEFAULT, "x"));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().contains("503 Service Unavailable"), e.getStatus().toString());

        int dead = deadPort();
        given().contentType("application/json").body("{\"url\":\"http://127.0.0.1:" + dead + "\"}").post("/pools/" + POOL + "/servers")
                .then().statusCode(201);
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel, GrpcFixture.UNARY, CallOptions.DEFAULT, "x"));
        assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), refused.getStatus().toString());
        assertTrue(refused.getStatus().getDescription().startsWith("50"), refused.getStatus().toString());
    }

    @Test
    void shouldGiveAnHttp11ClientAnH2cBackendsAnswerWithItsTrailersInTheLastChunk() throws Exception {
        h2cServer();
        RawHttp client = connect();
        byte[] body = message("hi");
        client.sendHead("POST /weldr.test.Fixture/Echo HTTP/1.1", "Host: weldr.test", "Content-Type: application/grpc", "TE: trailers",
                "Content-Length: " + body.length).send(body);
        RawHttp.Head head = client.readHead();
        assertEquals(200, head.status());
        assertEquals("application/grpc", head.header("content-type"));
        assertTrue(head.chunked(), head.toString());
        Map<String, String> trailers = new LinkedHashMap<>();
        byte[] got = readChunked(client.in(), trailers);
        assertArrayEquals(message("echo:hi"), got);
        assertEquals("0", trailers.get("grpc-status"), trailers.toString());

        // A trailers-only answer (a failure) is a head that says it all: no body.
        byte[] fail = message("NOT_FOUND|gone");
        client.sendHead("POST /weldr.test.Fixture/Fail HTTP/1.1", "Host: weldr.test", "Content-Type: application/grpc", "TE: trailers",
                "Content-Length: " + fail.length).send(fail);
        RawHttp.Response failed = client.read(false);
        assertEquals(200, failed.status());
        assertEquals("5", failed.header("grpc-status"));
        assertEquals("gone", failed.header("grpc-message"));
        assertEquals("0", failed.header("content-length"));
        assertNull(failed.header("transfer-encoding"));
    }

    /** A backend that takes 10 streams per connection, and holds every answer until {@code n} requests are in. */
    @Test
    void shouldShareFewConnectionsAmongManyConcurrentStreams() throws Exception {
        int n = 30;
        List<io.vertx.core.http.HttpServerRequest> held = new ArrayList<>();
        java.util.Set<Object> connections = java.util.concurrent.ConcurrentHashMap.newKeySet();
        io.vertx.core.http.HttpServer backend = backendVertx.createHttpServer(new io.vertx.core.http.HttpServerOptions()
                        .setHost("127.0.0.1").setPort(0).setInitialSettings(new io.vertx.core.http.Http2Settings().setMaxConcurrentStreams(10)))
                .requestHandler(req -> {
                    if (req.path().equals("/healthz")) {
                        req.response().end("ok");
                        return;
                    }
                    connections.add(req.connection());
                    synchronized (held) {
                        held.add(req);
                        if (held.size() == n) {
                            held.forEach(r -> r.response().end("answer " + r.version()));
                        }
                    }
                })
                .listen().toCompletionStage().toCompletableFuture().get(WAIT_S, TimeUnit.SECONDS);
        closeLater(() -> backend.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        pool("\"protocol\":\"h2c\",\"healthCheck\":{\"path\":\"/healthz\",\"interval\":\"200ms\",\"timeout\":\"2s\"}");
        add("http://127.0.0.1:" + backend.actualPort(), backend.actualPort());

        HttpClient client = backendVertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
                .setHttp2ClearTextUpgrade(false).setHttp2MaxPoolSize(1).setDefaultHost("127.0.0.1").setDefaultPort(proxyPort()));
        closeLater(() -> client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        List<CompletableFuture<String>> answers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            answers.add(client.request(new RequestOptions().setMethod(HttpMethod.GET).setURI("/weldr.test.Fixture/many/" + i))
                    .compose(req -> req.send().compose(r -> r.body().map(b -> r.statusCode() + " " + b)))
                    .toCompletionStage().toCompletableFuture());
        }
        for (CompletableFuture<String> a : answers) {
            assertEquals("200 answer HTTP_2", a.get(WAIT_S, TimeUnit.SECONDS));
        }
        // 30 streams at once, 10 a connection: 3 connections at least, and never more than the bound of 4.
        assertTrue(connections.size() >= 3 && connections.size() <= Http2Pool.MAX_CONNECTIONS, "connections: " + connections.size());
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static void everyCallKind(ManagedChannel channel) throws Exception {
        assertEquals("echo:hello", ClientCalls.blockingUnaryCall(channel, GrpcFixture.UNARY, CallOptions.DEFAULT, "hello"));

        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            sent.add("part" + i);
        }
        List<String> parts = new ArrayList<>();
        ClientCalls.blockingServerStreamingCall(channel, GrpcFixture.SERVER_STREAMING, CallOptions.DEFAULT, String.join(",", sent))
                .forEachRemaining(parts::add);
        assertEquals(sent, parts);

        Answers joined = new Answers();
        StreamObserver<String> requests = ClientCalls.asyncClientStreamingCall(channel.newCall(GrpcFixture.CLIENT_STREAMING, CallOptions.DEFAULT), joined);
        for (String s : sent) {
            requests.onNext(s);
        }
        requests.onCompleted();
        assertEquals(String.join(",", sent), joined.next());
        assertTrue(joined.done.get(WAIT_S, TimeUnit.SECONDS));

        // Each answer awaited before the next request: the two directions interleave on one stream.
        Answers chat = new Answers();
        StreamObserver<String> said = ClientCalls.asyncBidiStreamingCall(channel.newCall(GrpcFixture.BIDI, CallOptions.DEFAULT), chat);
        for (int i = 0; i < 200; i++) {
            said.onNext("word" + i);
            assertEquals("echo:word" + i, chat.next());
        }
        said.onCompleted();
        assertTrue(chat.done.get(WAIT_S, TimeUnit.SECONDS));
    }

    /** A gRPC length-prefixed message (uncompressed) of a UTF-8 string. */
    private static byte[] message(String text) {
        byte[] m = text.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[5 + m.length];
        out[1] = (byte) (m.length >>> 24);
        out[2] = (byte) (m.length >>> 16);
        out[3] = (byte) (m.length >>> 8);
        out[4] = (byte) m.length;
        System.arraycopy(m, 0, out, 5, m.length);
        return out;
    }

    private static byte[] readChunked(InputStream in, Map<String, String> trailers) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            int size = Integer.parseInt(line(in), 16);
            if (size == 0) {
                for (String l = line(in); !l.isEmpty(); l = line(in)) {
                    int colon = l.indexOf(':');
                    trailers.put(l.substring(0, colon).trim().toLowerCase(), l.substring(colon + 1).trim());
                }
                return body.toByteArray();
            }
            body.write(in.readNBytes(size));
            assertEquals("", line(in));
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("closed after " + sb);
            }
            sb.append((char) b);
        }
        return sb.toString().strip();
    }

    private static String json(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
