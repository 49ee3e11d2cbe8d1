package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import org.junit.jupiter.api.Test;

import java.net.SocketException;
import java.security.MessageDigest;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** 504 when a backend takes longer than {@code weldr.timeout.read} to answer: the client never hangs. */
@QuarkusTest
class TimeoutTest extends ProxyTestBase {

    /** Scheduling on a loaded machine may delay the timer a little; it must never fire early. */
    private static final Duration EARLY_MARGIN = Duration.ofMillis(100);
    private static final Duration LATE_MARGIN = Duration.ofMillis(1500);

    @Test
    void shouldAnswer504WhenTheBackendDoesNotAnswerAGetInTime() throws Exception {
        TestBackend silent = backend(TestBackend.options().raw(request -> {
            // accepts the request and never answers
        }));
        addServer(silent.port());
        RawHttp client = connect();

        long start = System.nanoTime();
        client.sendHead("GET /slow HTTP/1.1", "Host: weldr.test");
        RawHttp.Response response = client.read(false);
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

        assertEquals(504, response.status());
        NoActiveServerTest.assertShortPlainText(response);
        assertWithinReadTimeout(elapsed);
    }

    @Test
    void shouldAnswer504WhenTheBackendDoesNotAnswerAPostInTime() throws Exception {
        TestBackend silent = backend(TestBackend.options().raw(request -> {
            request.handler(chunk -> {
                // reads the body and never answers
            });
        }));
        addServer(silent.port());
        RawHttp client = connect();

        long start = System.nanoTime();
        client.sendHead("POST /slow HTTP/1.1", "Host: weldr.test", "Content-Length: 5").send("hello");
        RawHttp.Response response = client.read(false);
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

        assertEquals(504, response.status());
        NoActiveServerTest.assertShortPlainText(response);
        assertWithinReadTimeout(elapsed);
    }

    @Test
    void shouldCloseTheClientConnectionWhenTheBackendStallsInTheMiddleOfTheBody() throws Exception {
        // The head and part of the body arrive, then nothing: too late for a 504, so the proxy
        // must end the exchange by closing the client's connection, not leave the client waiting.
        TestBackend stalling = backend(TestBackend.options().raw(request -> {
            request.response().putHeader(HttpHeaders.CONTENT_LENGTH, "100000");
            request.response().write(Buffer.buffer(new byte[10_000]));
        }));
        addServer(stalling.port());
        RawHttp client = connect().readTimeout(config.timeout().read().plus(LATE_MARGIN).plusSeconds(1));

        client.sendHead("GET /stalls HTTP/1.1", "Host: weldr.test");
        RawHttp.Head head = client.readHead();
        long start = System.nanoTime();
        assertEquals(200, head.status());
        long read = 0;
        try {
            for (int n = client.in().read(new byte[8192]); n >= 0; n = client.in().read(new byte[8192])) {
                read += n;
            }
        } catch (SocketException reset) {
            // a reset ends it as well as a close
        } catch (SocketTimeoutException e) {
            fail("the client was left waiting for the rest of the body after " + read + " bytes");
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

        assertTrue(read < 100_000, "the client got the whole body: " + read);
        assertTrue(elapsed.compareTo(config.timeout().read().plus(LATE_MARGIN)) < 0,
                "the connection was closed after " + elapsed.toMillis() + " ms, read timeout " + config.timeout().read().toMillis() + " ms");
    }

    @Test
    void shouldNotCutAResponseWhileTheClientIsSlowerThanTheReadTimeout() throws Exception {
        // The read timeout is the backend's: a client that stops reading for longer than that
        // (back-pressure pauses the proxy's reads from the backend) still gets the whole body.
        long size = 16L * Bytes.MB;
        AtomicReference<String> sentDigest = new AtomicReference<>();
        TestBackend backend = backend(TestBackend.options().raw(request -> {
            request.response().putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(size));
            new Bytes.Pump(request.response(), size, 3, Long.MAX_VALUE,
                    CompletableFuture.completedFuture(null), sentDigest::set).run();
        }));
        addServer(backend.port());
        RawHttp client = closeLater(RawHttp.connect(proxyPort(), -1, 64 * 1024));

        client.sendHead("GET /download HTTP/1.1", "Host: weldr.test");
        assertEquals(200, client.readHead().status());
        MessageDigest got = Bytes.sha256();
        byte[] first = client.in().readNBytes(Bytes.MB);
        got.update(first);
        // A slow client is a matter of time: no condition to wait for instead.
        Thread.sleep(config.timeout().read().plusMillis(500).toMillis());
        byte[] buffer = new byte[Bytes.CHUNK];
        long read = first.length;
        while (read < size) {
            int n = client.in().read(buffer, 0, (int) Math.min(buffer.length, size - read));
            if (n < 0) {
                break;
            }
            got.update(buffer, 0, n);
            read += n;
        }

        assertEquals(size, read, "the response was cut");
        assertEquals(sentDigest.get(), Bytes.hex(got));
    }

    private void assertWithinReadTimeout(Duration elapsed) {
        Duration read = config.timeout().read();
        assertTrue(elapsed.compareTo(read.minus(EARLY_MARGIN)) >= 0,
                "504 after " + elapsed.toMillis() + " ms, before the read timeout of " + read.toMillis() + " ms");
        assertTrue(elapsed.compareTo(read.plus(LATE_MARGIN)) < 0,
                "504 after " + elapsed.toMillis() + " ms, read timeout " + read.toMillis() + " ms");
    }
}
