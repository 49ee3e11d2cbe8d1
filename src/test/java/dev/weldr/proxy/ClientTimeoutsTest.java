package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The client side's deadlines, one or two seconds here: the whole request head
 * ({@code weldr.timeout.client-head}), a gap in a request body ({@code client-body}), a client
 * taking no byte of its answer ({@code client-send}), an idle keep-alive connection
 * ({@code keep-alive}) and a silent WebSocket tunnel ({@code tunnel}). Each test waits for the
 * effect with a generous deadline; none bounds how soon it comes.
 */
@QuarkusTest
@TestProfile(ClientTimeoutsTest.ShortClientTimeouts.class)
class ClientTimeoutsTest extends ProxyTestBase {

    public static class ShortClientTimeouts implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "weldr.timeout.client-head", "2s",
                    "weldr.timeout.client-body", "1s",
                    "weldr.timeout.client-send", "1s",
                    "weldr.timeout.keep-alive", "2s",
                    "weldr.timeout.tunnel", "1s",
                    // Longer than every client deadline: a backend slow to answer is not the client's fault.
                    "weldr.timeout.read", "10s");
        }
    }

    @Test
    void shouldAnswer408ToAHeadThatDoesNotComeWholeInTimeHoweverOftenItsBytesCome() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        RawHttp slow = connect().readTimeout(WAIT);
        slow.send("GET /slowloris HTTP/1.1\r\nHost: weldr.test\r\nX-Slow: ");
        // A byte every 100 ms, far inside the timeout: an idle timer that every byte resets never fires.
        drip(slow, "x");

        RawHttp.Response response = slow.read(false);

        assertEquals(408, response.status(), response.text());
        assertEquals("close", response.header("connection"));
        assertClosed(slow);
        assertEquals(0, backend.requestCount(), "nothing reached the backend");
        // Others are served meanwhile.
        assertEquals(200, connect().get("/").status());
    }

    @Test
    void shouldAnswer408ToAnHttp2StreamWhoseBodyStopsComing() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        io.vertx.core.http.HttpClient client = backendVertx.createHttpClient(new io.vertx.core.http.HttpClientOptions()
                .setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
                .setDefaultHost("127.0.0.1").setDefaultPort(proxyPort()));
        closeLater(() -> client.close().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS));
        // Half of a 10-byte body, then nothing: the stream's body deadline (1 s) passes.
        int status = client.request(io.vertx.core.http.HttpMethod.POST, "/stalled-upload").compose(req -> {
            req.putHeader("content-length", "10");
            req.write("12345");
            return req.response();
        }).map(io.vertx.core.http.HttpClientResponse::statusCode)
                .toCompletionStage().toCompletableFuture().get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(408, status);
        assertEquals(0, backend.requestCount(), "the backend never got a whole request");
        // The connection serves its other streams.
        int next = client.request(io.vertx.core.http.HttpMethod.GET, "/after").compose(req -> req.send())
                .map(io.vertx.core.http.HttpClientResponse::statusCode)
                .toCompletionStage().toCompletableFuture().get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(200, next);
    }

    @Test
    void shouldCloseAConnectionThatSendsOnlyEmptyLines() throws Exception {
        // RFC 9112 §2.2 lets empty lines precede a request line: they are part of the head, whose deadline runs on.
        RawHttp blank = connect().readTimeout(WAIT);
        drip(blank, "\r\n");
        assertClosed(blank);
    }

    @Test
    void shouldCloseAConnectionThatNeverSendsAByte() throws Exception {
        RawHttp silent = connect().readTimeout(WAIT);
        // As nginx and HAProxy's http-ignore-probes: nothing was asked, so nothing is answered.
        assertEquals(-1, readOrEnd(silent), "closed without an answer");
    }

    @Test
    void shouldCloseAKeepAliveConnectionIdleBetweenRequests() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        RawHttp client = connect().readTimeout(WAIT);
        assertEquals(200, client.get("/first").status());
        assertEquals(200, client.get("/second").status(), "kept alive after an answer");

        assertEquals(-1, readOrEnd(client), "closed without an answer once idle past weldr.timeout.keep-alive");
    }

    @Test
    void shouldAnswer408WhenTheClientStopsInTheMiddleOfItsBody() throws Exception {
        CompletableFuture<Void> backendSawItClosed = new CompletableFuture<>();
        TestBackend backend = backend(TestBackend.options().raw(request -> {
            request.connection().closeHandler(v -> backendSawItClosed.complete(null));
            request.exceptionHandler(closedByWeldr -> { });
            request.handler(chunk -> {
                // reads what comes, answers once the body ends (it never does)
            });
            request.endHandler(v -> request.response().end("whole"));
        }));
        addServer(backend.port());
        RawHttp client = connect().readTimeout(WAIT);

        client.sendHead("POST /upload HTTP/1.1", "Host: weldr.test", "Content-Length: 100").send("only part of it");
        RawHttp.Response response = client.read(false);

        assertEquals(408, response.status(), response.text());
        assertEquals("close", response.header("connection"));
        assertClosed(client);
        // The half-sent request is not left on the backend's connection.
        backendSawItClosed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void shouldDisconnectAClientThatTakesNoByteOfItsAnswerAndReleaseTheBackend() throws Exception {
        long size = 512L * Bytes.MB;
        CompletableFuture<Void> backendSawItClosed = new CompletableFuture<>();
        Bytes.Pump[] pump = new Bytes.Pump[1];
        TestBackend backend = backend(TestBackend.options().raw(request -> {
            request.connection().closeHandler(v -> backendSawItClosed.complete(null));
            request.response().exceptionHandler(closedByWeldr -> { });
            request.response().putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(size));
            pump[0] = new Bytes.Pump(request.response(), size, 5, Long.MAX_VALUE,
                    CompletableFuture.completedFuture(null), digest -> { });
            pump[0].run();
        }));
        addServer(backend.port());
        RawHttp client = closeLater(RawHttp.connect(proxyPort(), -1, 64 * 1024)).readTimeout(WAIT);

        client.sendHead("GET /download HTTP/1.1", "Host: weldr.test");
        // The client reads nothing: weldr's buffers fill, then the backend is no longer read.
        backendSawItClosed.get(WAIT.toSeconds(), TimeUnit.SECONDS);

        long read = 0;
        byte[] buffer = new byte[64 * 1024];
        try {
            for (int n = client.in().read(buffer); n >= 0; n = client.in().read(buffer)) {
                read += n;
            }
        } catch (SocketException reset) {
            // a reset ends it as well as a close
        } catch (SocketTimeoutException e) {
            fail("weldr did not close the connection of a client that took no byte of its answer");
        }
        assertTrue(read < size, "the client got the whole body: " + read);
        assertTrue(pump[0].progress < size, "the backend sent its whole body: " + pump[0].progress);
    }

    @Test
    void shouldCloseAWebSocketTunnelSilentBothWays() throws Exception {
        CompletableFuture<Void> backendSawItClosed = new CompletableFuture<>();
        TestBackend backend = backend(TestBackend.options().raw(request -> request.toWebSocket().onSuccess(ws -> {
            ws.closeHandler(v -> backendSawItClosed.complete(null));
            ws.textMessageHandler(message -> ws.writeTextMessage("echo " + message));
        })));
        addServer(backend.port());

        CompletableFuture<String> echo = new CompletableFuture<>();
        CompletableFuture<Void> clientSawItClosed = new CompletableFuture<>();
        WebSocket ws = backendVertx.createWebSocketClient()
                .connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(proxyPort()).setURI("/chat"))
                .toCompletionStage().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        closeLater(() -> ws.close());
        ws.closeHandler(v -> clientSawItClosed.complete(null));
        ws.textMessageHandler(echo::complete);
        ws.writeTextMessage("hello");
        assertEquals("echo hello", echo.get(WAIT.toSeconds(), TimeUnit.SECONDS), "the tunnel works");

        clientSawItClosed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        backendSawItClosed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void shouldNotTimeOutAClientWaitingForItsAnswer() throws Exception {
        // The backend answers after every client deadline has passed once (2.5 s against 1 and 2 s).
        TestBackend slow = backend(TestBackend.options().responder((seen, response) ->
                backendVertx.setTimer(2500, id -> response.end("late " + seen.body()))));
        addServer(slow.port());
        RawHttp client = connect().readTimeout(WAIT);

        client.sendHead("POST /slow HTTP/1.1", "Host: weldr.test", "Content-Length: 4").send("body");
        RawHttp.Response response = client.read(false);

        assertEquals(200, response.status(), response.text());
        assertEquals("late body", response.text());
    }

    /** Sends {@code bytes} every 100 ms until the test ends or weldr closes the connection. */
    private void drip(RawHttp client, String bytes) {
        ScheduledExecutorService drip = Executors.newSingleThreadScheduledExecutor();
        closeLater(drip::shutdownNow);
        drip.scheduleAtFixedRate(() -> {
            try {
                client.send(bytes);
            } catch (IOException closedByWeldr) {
                // the end the test waits for
            }
        }, 100, 100, TimeUnit.MILLISECONDS);
    }

    /** The next byte from the client's connection, -1 at its end (a reset counts as an end too). */
    private static int readOrEnd(RawHttp client) throws IOException {
        try {
            return client.in().read();
        } catch (SocketException reset) {
            return -1;
        }
    }

    /** Nothing follows on the connection: weldr closed it. */
    private static void assertClosed(RawHttp client) throws IOException {
        assertEquals(-1, readOrEnd(client), "weldr closed the connection");
    }
}
