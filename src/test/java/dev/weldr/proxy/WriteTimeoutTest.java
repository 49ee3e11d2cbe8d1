package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@code weldr.timeout.write}: a backend that stops taking the request body is given up after
 * that long, the client gets 504 and the backend's connection is closed, not held for good.
 */
@QuarkusTest
@TestProfile(WriteTimeoutTest.ShortWriteTimeout.class)
class WriteTimeoutTest extends ProxyTestBase {

    public static class ShortWriteTimeout implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // The client's own deadlines stay far longer: only the backend's side may time out here.
            return Map.of("weldr.timeout.write", "1s",
                    "weldr.timeout.read", "30s",
                    "weldr.timeout.client-body", "60s",
                    "weldr.timeout.client-send", "60s");
        }
    }

    private static final int SMALL_SOCKET_BUFFER = 64 * 1024;

    @Test
    void shouldAnswer504AndCloseTheBackendThatStopsTakingTheBody() throws Exception {
        long size = 256L * Bytes.MB;
        AtomicLong received = new AtomicLong();
        AtomicBoolean ended = new AtomicBoolean();
        CompletableFuture<Void> backendStopped = new CompletableFuture<>();
        CompletableFuture<Void> backendSawItClosed = new CompletableFuture<>();
        CompletableFuture<Void> readAgain = new CompletableFuture<>();
        TestBackend backend = backend(TestBackend.options().receiveBufferSize(SMALL_SOCKET_BUFFER).raw(request -> {
            Context context = Vertx.currentContext();
            readAgain.whenComplete((v, e) -> context.runOnContext(x -> request.resume()));
            request.connection().closeHandler(v -> backendSawItClosed.complete(null));
            request.exceptionHandler(closedByWeldr -> { });
            request.handler(chunk -> {
                // Takes the first megabyte, then nothing more until told, and never answers.
                if (received.addAndGet(chunk.length()) >= Bytes.MB && !readAgain.isDone()) {
                    request.pause();
                    backendStopped.complete(null);
                }
            });
            request.endHandler(v -> {
                ended.set(true);
                request.response().end("whole");
            });
        }));
        addServer(backend.port());
        RawHttp client = closeLater(RawHttp.connect(proxyPort(), SMALL_SOCKET_BUFFER, -1)).readTimeout(WAIT);
        client.sendHead("POST /upload HTTP/1.1", "Host: weldr.test", "Content-Length: " + size);
        CompletableFuture.runAsync(() -> {
            byte[] chunk = new byte[64 * 1024];
            try {
                for (long left = size; left > 0; left -= chunk.length) {
                    client.out().write(chunk, 0, (int) Math.min(chunk.length, left));
                }
                client.out().flush();
            } catch (IOException closedByWeldr) {
                // weldr answered and closed the connection before the body was all sent
            }
        });

        backendStopped.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        RawHttp.Response response = client.read(false);

        assertEquals(504, response.status(), response.text());
        // A paused reader cannot see its connection end: reading again, the backend finds what was
        // sent before weldr gave up, then the end of a connection weldr closed.
        readAgain.complete(null);
        backendSawItClosed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertFalse(ended.get(), "the backend never got the whole body");
    }
}
