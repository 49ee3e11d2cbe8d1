package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

import static dev.weldr.proxy.Bytes.CHUNK;
import static dev.weldr.proxy.Bytes.MB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Bodies cross the proxy intact, chunked or with a Content-Length, and stream: the proxy never
 * holds a whole body.
 *
 * How "never holds a whole body" is checked, without measuring the heap (Vert.x and Netty keep
 * bytes in flight in direct buffers, which the heap does not show, and garbage collection makes
 * heap figures noisy):
 * <ul>
 * <li>the 10 MB tests gate the sender on the receiver: the backend must get the start of an
 *     upload before the client sends its second half, and the client must get the start of a
 *     download before the backend writes its second half. A store-and-forward proxy deadlocks
 *     there, and the wait fails;</li>
 * <li>the back-pressure tests stop the receiving end and let the sending end write until it
 *     blocks. What the sender got rid of and the receiver has not read is then in socket buffers
 *     or in the proxy; the kernel's share is bounded by the machine's socket buffer maximum, so a
 *     body larger than that bound plus 16 MB shows whether the proxy read ahead without limit.</li>
 * </ul>
 */
@QuarkusTest
class BodyStreamingTest extends ProxyTestBase {

    private static final long TEN_MB = 10L * MB;
    /** The proxy's own read-ahead allowed for: a few reads and a write queue, far below a body. */
    private static final long PROXY_SLACK = 4L * MB;
    private static final int SMALL_SOCKET_BUFFER = 64 * 1024;

    private static byte[] binary() {
        byte[] all = new byte[256];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        return all;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    // ---- chunked ----------------------------------------------------------------------------

    @Test
    void shouldForwardAChunkedRequestBodyIntact() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        byte[] hello = "hello ".getBytes();
        byte[] world = "world".getBytes();
        RawHttp client = connect();

        client.sendHead("POST /chunked HTTP/1.1", "Host: weldr.test", "Transfer-Encoding: chunked")
                .send("6\r\n").send(hello).send("\r\n")
                .send("100\r\n").send(binary()).send("\r\n")
                .send("5\r\n").send(world).send("\r\n")
                .send("0\r\n\r\n");
        RawHttp.Response response = client.read(false);

        assertEquals(200, response.status());
        TestBackend.Seen seen = backend.seen().get(0);
        byte[] expected = concat(hello, binary(), world);
        assertTrue(seen.chunked() || Integer.toString(expected.length).equals(seen.header("content-length")),
                "the backend got neither a chunked body nor its length: " + seen.headers());
        assertArrayEquals(expected, seen.body().getBytes());
    }

    @Test
    void shouldForwardAChunkedRequestBodyThatComesInPiecesCutAnywhere() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        RawHttp client = connect().readTimeout(Duration.ofSeconds(10));
        client.sendHead("POST /pieces HTTP/1.1", "Host: weldr.test", "Transfer-Encoding: chunked");
        // Cut inside a size line, between CR and LF, inside data, inside the last chunk's line.
        for (String piece : new String[] {"0", "b\r", "\nhello ", "worl", "d\r", "\n5\r\nagain\r\n0", "\r", "\n", "\r\n"}) {
            client.send(piece);
            Thread.sleep(30);
        }
        RawHttp.Response response = client.read(false);

        assertEquals(200, response.status(), response.text());
        assertEquals("hello worldagain", backend.seen().get(0).body().toString());
        assertEquals(200, client.get("/after").status(), "the connection goes on");
    }

    @Test
    void shouldForwardAChunkedResponseThatComesInPiecesCutAnywhere() throws Exception {
        Scripted backend = closeLater(new Scripted(30, false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0",
                "b\r", "\nhello ", "worl", "d\r", "\n5\r\nagain\r\n0", "\r", "\nX-Trailer: t\r\n", "\r\n"));
        addServer(backend.port());
        RawHttp client = connect().readTimeout(Duration.ofSeconds(10));

        RawHttp.Response response = client.get("/pieces");

        assertEquals(200, response.status(), response.text());
        assertEquals("hello worldagain", response.text());
    }

    /**
     * A backend that reads a request's head only (never a body) and answers with the pieces it was
     * given, each in its own write {@code pauseMs} after the one before, then closes the connection
     * or waits for the next request (health checks get their 200 at once). JDK sockets with a small
     * receive buffer: nothing rejoins the pieces, and an unread body cannot hide in the kernel.
     */
    private static final class Scripted implements AutoCloseable {
        private final ServerSocket server = new ServerSocket();
        private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "scripted-backend");
            t.setDaemon(true);
            return t;
        });

        Scripted(int pauseMs, boolean close, String... pieces) throws IOException {
            server.setReceiveBufferSize(SMALL_SOCKET_BUFFER);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            threads.execute(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket socket = server.accept();
                        threads.execute(() -> serve(socket, pauseMs, close, pieces));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        private void serve(Socket socket, int pauseMs, boolean close, String[] pieces) {
            try (socket) {
                InputStream in = socket.getInputStream();
                while (true) {
                    StringBuilder head = new StringBuilder();
                    while (!head.toString().endsWith("\r\n\r\n")) {
                        int b = in.read();
                        if (b < 0) {
                            return;
                        }
                        head.append((char) b);
                    }
                    if (head.toString().contains(TestBackend.HEALTH_CHECK_AGENT)) {
                        socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                        continue;
                    }
                    for (String piece : pieces) {
                        Thread.sleep(pauseMs);
                        socket.getOutputStream().write(piece.getBytes(StandardCharsets.ISO_8859_1));
                        socket.getOutputStream().flush();
                    }
                    if (close) {
                        return;
                    }
                }
            } catch (IOException | InterruptedException e) {
                // the proxy went away first, or the test is over
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            threads.shutdownNow();
        }
    }

    @Test
    void shouldForwardAChunkedResponseBodyIntact() throws Exception {
        TestBackend backend = backend(TestBackend.options().responder((seen, response) -> {
            response.setChunked(true);
            response.write("alpha-");
            response.write(Buffer.buffer(binary()));
            response.end("omega");
        }));
        addServer(backend.port());

        RawHttp.Response response = connect().get("/chunked");

        assertEquals(200, response.status());
        assertTrue(response.head().chunked(),
                "a body of unknown length must reach the client chunked, as it streams: " + response.head().headers());
        assertArrayEquals(concat("alpha-".getBytes(), binary(), "omega".getBytes()), response.body());
    }

    // ---- 10 MB, streamed, checksummed --------------------------------------------------------

    @Test
    void shouldStreamA10MbRequestBodyToTheBackendWithTheSameChecksum() throws Exception {
        AtomicLong received = new AtomicLong();
        TestBackend backend = backend(TestBackend.options().raw(request -> {
            MessageDigest digest = Bytes.sha256();
            request.handler(chunk -> {
                digest.update(chunk.getBytes());
                received.addAndGet(chunk.length());
            });
            request.endHandler(v -> request.response().end(received.get() + " " + Bytes.hex(digest)));
        }));
        addServer(backend.port());
        RawHttp client = connect();
        Bytes.Generator body = new Bytes.Generator(42);
        MessageDigest sent = Bytes.sha256();

        client.sendHead("POST /upload HTTP/1.1", "Host: weldr.test", "Content-Length: " + TEN_MB);
        body.writeTo(client.out(), TEN_MB / 2, sent);
        await("the backend got the start of the body while the client still holds the rest",
                () -> received.get() > 0);
        body.writeTo(client.out(), TEN_MB - TEN_MB / 2, sent);
        RawHttp.Response response = client.read(false);

        assertEquals(200, response.status());
        assertEquals(TEN_MB + " " + Bytes.hex(sent), response.text());
    }

    @Test
    void shouldStreamA10MbResponseBodyToTheClientWithTheSameChecksum() throws Exception {
        CompletableFuture<Void> clientGotTheStart = new CompletableFuture<>();
        AtomicReference<String> sentDigest = new AtomicReference<>();
        TestBackend backend = backend(TestBackend.options().raw(request -> {
            request.response().putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(TEN_MB));
            new Bytes.Pump(request.response(), TEN_MB, 7, TEN_MB / 2, clientGotTheStart, sentDigest::set).run();
        }));
        addServer(backend.port());
        RawHttp client = connect();

        client.sendHead("GET /download HTTP/1.1", "Host: weldr.test");
        RawHttp.Head head = client.readHead();
        assertEquals(200, head.status());
        assertEquals(TEN_MB, head.contentLength());
        MessageDigest got = Bytes.sha256();
        // The backend writes its second half only once this loop has read some of the first.
        long read = readBody(client.in(), TEN_MB, got, () -> clientGotTheStart.complete(null));

        assertEquals(TEN_MB, read);
        assertEquals(sentDigest.get(), Bytes.hex(got));
    }

    private static long readBody(InputStream in, long length, MessageDigest digest, Runnable onFirstBytes) throws IOException {
        byte[] buffer = new byte[CHUNK];
        long read = 0;
        while (read < length) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, length - read));
            if (n < 0) {
                fail("the connection closed after " + read + " of " + length + " bytes");
            }
            digest.update(buffer, 0, n);
            read += n;
            onFirstBytes.run();
        }
        return read;
    }

    // ---- back-pressure ----------------------------------------------------------------------

    @Test
    void shouldStopReadingTheClientWhileTheBackendIsNotReading() throws Exception {
        long bound = Bytes.proxyKernelBuffers() + PROXY_SLACK + 4L * SMALL_SOCKET_BUFFER;
        long size = MB + bound + 16L * MB;
        AtomicLong received = new AtomicLong();
        CompletableFuture<Void> backendStopped = new CompletableFuture<>();
        CompletableFuture<Void> backendGoesOn = new CompletableFuture<>();
        TestBackend backend = backend(TestBackend.options().receiveBufferSize(SMALL_SOCKET_BUFFER).raw(request -> {
            Context context = Vertx.currentContext();
            request.handler(chunk -> {
                if (received.addAndGet(chunk.length()) >= MB && !backendStopped.isDone()) {
                    request.pause();
                    backendStopped.complete(null);
                    backendGoesOn.whenComplete((v, e) -> context.runOnContext(x -> request.resume()));
                }
            });
            request.endHandler(v -> request.response().end(Long.toString(received.get())));
        }));
        addServer(backend.port());
        RawHttp client = closeLater(RawHttp.connect(proxyPort(), SMALL_SOCKET_BUFFER, -1));
        client.sendHead("POST /upload HTTP/1.1", "Host: weldr.test", "Content-Length: " + size);
        AtomicLong written = new AtomicLong();
        CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
            byte[] chunk = new byte[CHUNK];
            try {
                for (long left = size; left > 0; ) {
                    int len = (int) Math.min(chunk.length, left);
                    client.out().write(chunk, 0, len);
                    left -= len;
                    written.addAndGet(len);
                }
                client.out().flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });

        backendStopped.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        awaitStill(written, size);
        long heldBetween = written.get() - received.get();
        backendGoesOn.complete(null);
        upload.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        RawHttp.Response response = client.read(false);

        assertEquals(200, response.status(), response.text());
        assertEquals(Long.toString(size), response.text(), "the backend got the whole body");
        assertTrue(heldBetween <= bound, "while the backend read nothing the client could write "
                + heldBetween / MB + " MB more than the backend got: more than socket buffers and the proxy's "
                + "own read-ahead (" + bound / MB + " MB) can hold; the proxy kept reading the client");
    }

    @Test
    void shouldDrainABodyItHoldsOnceTheBackendAnsweredWithoutReadingIt() throws Exception {
        // The backend reads nothing of the body, so the proxy cannot pass all of it on and holds what
        // it read; then the backend answers. The client has sent everything already: the proxy must
        // drain what it holds by itself, and the client's connection goes on.
        // It closes the connection after its answer: it did not read the body, so the next request
        // on that connection would be read from the middle of it.
        Scripted backend = closeLater(new Scripted(300, true, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nearly"));
        addServer(backend.port());
        RawHttp client = connect().readTimeout(Duration.ofSeconds(10));
        int size = 512 * 1024;
        client.sendHead("POST /upload HTTP/1.1", "Host: weldr.test", "Content-Length: " + size);
        client.out().write(new byte[size]);
        client.out().flush();

        RawHttp.Response answer = client.read(false);
        assertEquals(200, answer.status(), answer.text());
        assertEquals("early", answer.text());
        RawHttp.Response next = client.get("/next");
        assertEquals(200, next.status(), next.text());
    }

    @Test
    void shouldStopReadingTheBackendWhileTheClientIsNotReading() throws Exception {
        long bound = Bytes.proxyKernelBuffers() + PROXY_SLACK + 4L * SMALL_SOCKET_BUFFER;
        long size = MB + bound + 16L * MB;
        AtomicReference<Bytes.Pump> pump = new AtomicReference<>();
        AtomicReference<String> sentDigest = new AtomicReference<>();
        TestBackend backend = backend(TestBackend.options().sendBufferSize(SMALL_SOCKET_BUFFER).raw(request -> {
            request.response().putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(size));
            Bytes.Pump p = new Bytes.Pump(request.response(), size, 11, Long.MAX_VALUE,
                    CompletableFuture.completedFuture(null), sentDigest::set);
            pump.set(p);
            p.run();
        }));
        addServer(backend.port());
        RawHttp client = closeLater(RawHttp.connect(proxyPort(), -1, SMALL_SOCKET_BUFFER));

        client.sendHead("GET /download HTTP/1.1", "Host: weldr.test");
        RawHttp.Head head = client.readHead();
        assertEquals(200, head.status());
        MessageDigest got = Bytes.sha256();
        long firstPart = readBody(client.in(), MB, got, () -> { });
        // The client reads nothing now; the backend writes until back-pressure stops it.
        await("the backend started", () -> pump.get() != null);
        awaitStill(() -> pump.get().progress, size);
        long heldBetween = pump.get().progress - firstPart;
        long rest = readBody(client.in(), size - firstPart, got, () -> { });

        assertEquals(size, firstPart + rest);
        assertEquals(sentDigest.get(), Bytes.hex(got));
        assertTrue(heldBetween <= bound, "while the client read nothing the backend could write "
                + heldBetween / MB + " MB more than the client got: more than socket buffers and the proxy's "
                + "own read-ahead (" + bound / MB + " MB) can hold; the proxy kept reading the backend");
    }

    private static void awaitStill(AtomicLong progress, long end) {
        awaitStill(progress::get, end);
    }

    /** Waits until a byte count reaches its end or stops moving (no change for 200 ms). */
    private static void awaitStill(LongSupplier progress, long end) {
        long[] last = {-1};
        long[] since = {System.nanoTime()};
        await("the writer is blocked or done", () -> {
            long now = progress.getAsLong();
            if (now >= end) {
                return true;
            }
            if (now != last[0]) {
                last[0] = now;
                since[0] = System.nanoTime();
                return false;
            }
            return System.nanoTime() - since[0] > Duration.ofMillis(200).toNanos();
        });
    }
}
