package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RFC 9110/9112 details at the edges, end to end with a backend that records every byte it gets:
 * what weldr refuses never reaches a backend, not even in part; what a backend answers in an odd
 * but lawful way (interim answers, a 204 or 304 with a length) reaches the client right; what
 * weldr could only pass on wrongly (a transfer coding it does not decode) is a 502.
 */
@QuarkusTest
class HttpConformanceTest extends ProxyTestBase {

    private RecordingBackend recording() throws IOException {
        RecordingBackend backend = closeLater(RecordingBackend.ok());
        addServer(backend.port());
        return backend;
    }

    /** The client gets {@code status} and its connection is closed. */
    private static void assertRefusedAndClosed(RawHttp client, int status) throws IOException {
        RawHttp.Response response = client.read(false);
        assertEquals(status, response.status(), response.text());
        assertEquals("close", response.header("connection"));
        assertEquals(-1, client.in().read(), "the connection is closed");
    }

    /**
     * Nothing of a refused request reached the backend: a good request sent after it arrives,
     * and is all the backend got since it had received {@code before} bytes and answered
     * {@code answered} requests.
     */
    private void assertOnlyTheNextRequestArrives(RecordingBackend backend, int before, int answered) throws IOException {
        RawHttp.Response next = connect().get("/next");
        assertEquals(200, next.status(), next.text());
        await("the backend answered the next request", () -> backend.requests() == answered + 1);
        String received = backend.received().substring(before);
        assertTrue(received.startsWith("GET /next HTTP/1.1\r\n"), received);
        assertEquals(1, received.split(" HTTP/1.1\r\n", -1).length - 1, received);
    }

    private void assertOnlyTheNextRequestArrives(RecordingBackend backend) throws IOException {
        assertOnlyTheNextRequestArrives(backend, 0, 0);
    }

    // ---- no byte of a refused request reaches a backend ---------------------------------------

    @Test
    void shouldNotSendAnyByteOfAChunkedRequestWhoseFirstChunkSizeIsInvalid() throws Exception {
        RecordingBackend backend = recording();
        for (String size : new String[] {"zz", "fffffffffffffffffffff", "5 junk"}) {
            RawHttp client = connect();
            client.sendHead("POST /bad HTTP/1.1", "Host: weldr.test", "Transfer-Encoding: chunked");
            client.send(size + "\r\nhello\r\n0\r\n\r\n");
            assertRefusedAndClosed(client, 400);
        }
        assertOnlyTheNextRequestArrives(backend);
    }

    @Test
    void shouldNotSendAChunkedRequestWhoseFirstChunkLineComesLateAndIsInvalid() throws Exception {
        RecordingBackend backend = recording();
        RawHttp client = connect();
        // A first request leaves a backend connection in the idle cache: the next one has it at once.
        assertEquals(200, client.get("/first").status());
        int before = backend.received().length();
        client.sendHead("POST /bad HTTP/1.1", "Host: weldr.test", "Transfer-Encoding: chunked");
        client.send("fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n");
        assertRefusedAndClosed(client, 400);
        assertOnlyTheNextRequestArrives(backend, before, 1);
    }

    @Test
    void shouldStillForwardAValidChunkedRequestWhoseBodyComesLate() throws Exception {
        RecordingBackend backend = recording();
        RawHttp client = connect();
        assertEquals(200, client.get("/first").status());
        client.sendHead("POST /late HTTP/1.1", "Host: weldr.test", "Transfer-Encoding: chunked");
        client.send("5;ext=1\r\nhello\r\n0\r\n\r\n");
        RawHttp.Response response = client.read(false);
        assertEquals(200, response.status(), response.text());
        assertTrue(backend.received().contains("\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), backend.received());
        assertEquals(200, client.get("/after").status(), "the connection goes on");
    }

    @Test
    void shouldLetTheClientReadTheRefusalWhateverItSentAfterIt() throws Exception {
        // A refused request followed by more than weldr reads ahead: closing with those bytes
        // unread makes the kernel send a reset, which destroys the 400 before the client reads it.
        // weldr shuts its side and drops the rest (nginx's lingering close): the client reads the
        // whole answer, then the end of the stream.
        RecordingBackend backend = recording();
        for (int i = 0; i < 5; i++) {
            RawHttp client = connect();
            byte[] rest = new byte[256 * 1024];
            java.util.Arrays.fill(rest, (byte) 'x');
            client.send("POST /upload HTTP/1.1\r\nHost: weldr.test\r\nContent-Length: 12x\r\n\r\n");
            client.send(rest);
            assertRefusedAndClosed(client, 400);
            client.close();
        }
        assertOnlyTheNextRequestArrives(backend);
    }

    @Test
    void shouldRefuseATransferEncodingFromAnHttp10ClientAndClose() throws Exception {
        RecordingBackend backend = recording();
        RawHttp client = connect();
        client.send("POST /old HTTP/1.0\r\nHost: weldr.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        assertRefusedAndClosed(client, 400);
        assertOnlyTheNextRequestArrives(backend);
    }

    @Test
    void shouldRefuseConnectWith405AndAnAsteriskOtherThanOptionsWith400() throws Exception {
        RecordingBackend backend = recording();
        RawHttp connect = connect();
        connect.send("CONNECT backend.example:443 HTTP/1.1\r\nHost: backend.example:443\r\n\r\n");
        assertRefusedAndClosed(connect, 405);
        RawHttp asterisk = connect();
        asterisk.send("GET * HTTP/1.1\r\nHost: weldr.test\r\n\r\n");
        assertRefusedAndClosed(asterisk, 400);
        assertOnlyTheNextRequestArrives(backend);
    }

    @Test
    void shouldForwardOptionsAsterisk() throws Exception {
        RecordingBackend backend = recording();
        RawHttp.Response response = connect().sendHead("OPTIONS * HTTP/1.1", "Host: weldr.test").read(false);
        assertEquals(200, response.status(), response.text());
        assertTrue(backend.received().startsWith("OPTIONS * HTTP/1.1\r\n"), backend.received());
    }

    @Test
    void shouldRefuseWhitespaceOrControlsInTheHost() throws Exception {
        RecordingBackend backend = recording();
        RawHttp absolute = connect();
        absolute.send("GET http://shop.example%20evil.example/ HTTP/1.1\r\nHost: weldr.test\r\n\r\n");
        assertRefusedAndClosed(absolute, 400);
        RawHttp encodedLineBreak = connect();
        encodedLineBreak.send("GET http://shop.example%0d%0aX-Evil:%201/ HTTP/1.1\r\nHost: weldr.test\r\n\r\n");
        assertRefusedAndClosed(encodedLineBreak, 400);
        RawHttp header = connect();
        header.send("GET / HTTP/1.1\r\nHost: shop.example evil.example\r\n\r\n");
        assertRefusedAndClosed(header, 400);
        assertOnlyTheNextRequestArrives(backend);
    }

    @Test
    void shouldRefuseAWebSocketUpgradeWithABodyInsteadOfHanging() throws Exception {
        RecordingBackend backend = recording();
        String[] upgrade = {"GET /chat HTTP/1.1", "Host: weldr.test", "Connection: Upgrade", "Upgrade: websocket",
                "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="};
        RawHttp withLength = connect().readTimeout(Duration.ofSeconds(10));
        withLength.sendHead(concat(upgrade, "Content-Length: 5")).send("hello");
        assertRefusedAndClosed(withLength, 400);
        RawHttp chunked = connect().readTimeout(Duration.ofSeconds(10));
        chunked.sendHead(concat(upgrade, "Transfer-Encoding: chunked")).send("5\r\nhello\r\n0\r\n\r\n");
        assertRefusedAndClosed(chunked, 400);
        assertOnlyTheNextRequestArrives(backend);
    }

    @Test
    void shouldRefuseAConnectionHeaderNamingThousandsOfHeaders() throws Exception {
        // Each name would cost a comparison with every header line: past the cap, refused at once.
        RecordingBackend backend = recording();
        StringBuilder names = new StringBuilder("keep-alive");
        for (int i = 0; i < 2000; i++) {
            names.append(", x-").append(i);
        }
        RawHttp client = connect();
        client.sendHead("GET /named HTTP/1.1", "Host: weldr.test", "Connection: " + names, "X-1: v");
        assertRefusedAndClosed(client, 400);
        assertOnlyTheNextRequestArrives(backend);
    }

    private static String[] concat(String[] lines, String more) {
        String[] all = java.util.Arrays.copyOf(lines, lines.length + 1);
        all[lines.length] = more;
        return all;
    }

    // ---- what goes on, and how ----------------------------------------------------------------

    @Test
    void shouldIgnoreTheExpectationOfAnHttp10Client() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        RawHttp client = connect();
        // RFC 9110 §10.1.1: an HTTP/1.0 client sends its body anyway; no 100 is due to it.
        client.send("POST /upload HTTP/1.0\r\nHost: weldr.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello");
        RawHttp.Response response = client.read(false);
        assertEquals(200, response.status(), "the final answer first, no 100 Continue");
        assertEquals("hello", backend.seen().get(0).body().toString());
        assertNull(backend.seen().get(0).header("expect"));
    }

    @Test
    void shouldNotForwardTrailerFieldsThatFrameOrRoute() throws Exception {
        RecordingBackend backend = recording();
        RawHttp client = connect();
        client.sendHead("POST /trailers HTTP/1.1", "Host: weldr.test", "Transfer-Encoding: chunked");
        client.send("5\r\nhello\r\n0\r\nX-Checksum: 42\r\nContent-Length: 500\r\nTransfer-Encoding: chunked\r\n"
                + "Host: admin.internal\r\nConnection: close\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n");
        RawHttp.Response response = client.read(false);
        assertEquals(200, response.status(), response.text());
        String received = backend.received();
        String trailers = received.substring(received.indexOf("\r\n0\r\n") + 5);
        assertEquals("X-Checksum: 42\r\n\r\n", trailers, received);
        assertEquals(200, client.get("/after").status(), "the connection goes on");
    }

    @Test
    void shouldAnswer502ToAResponseWithATransferCodingOtherThanChunked() throws Exception {
        // "hello" gzipped would be lost as plain chunks: refused rather than passed on re-coded.
        for (String codings : new String[] {"gzip, chunked", "gzip"}) {
            emptyPool();
            RecordingBackend backend = closeLater(new RecordingBackend(n -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: " + codings
                    + "\r\nConnection: close\r\n\r\n" + (codings.endsWith("chunked") ? "3\r\nabc\r\n0\r\n\r\n" : "abc")));
            addServer(backend.port());
            RawHttp.Response response = connect().get("/coded");
            assertEquals(502, response.status(), codings + ": " + response.text());
            assertFalse(response.text().contains("abc"), response.text());
        }
    }

    @Test
    void shouldReadNoBodyAfterA204OrA304WithAContentLengthAndKeepBothConnections() throws Exception {
        RecordingBackend backend = closeLater(new RecordingBackend(n -> switch (n) {
            case 0 -> "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n";
            case 1 -> "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: \"v1\"\r\n\r\n";
            default -> "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh";
        }));
        addServer(backend.port());
        RawHttp client = connect().readTimeout(Duration.ofSeconds(10));
        RawHttp.Response noContent = client.get("/a");
        assertEquals(204, noContent.status());
        assertNull(noContent.header("content-length"), "a 204 has no Content-Length (RFC 9110 §8.6)");
        RawHttp.Response notModified = client.get("/b");
        assertEquals(304, notModified.status());
        assertEquals("5", notModified.header("content-length"), "a 304's length is the representation's");
        RawHttp.Response fresh = client.get("/c");
        assertEquals(200, fresh.status());
        assertEquals("fresh", fresh.text());
        assertEquals(1, backend.requestConnections(), "one backend connection carried all three");
    }

    @Test
    void shouldPassOverInterimResponsesToTheFinalOne() throws Exception {
        RecordingBackend backend = closeLater(new RecordingBackend(n -> n == 0
                ? "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                + "HTTP/1.1 100 Continue\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"
                : "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"));
        addServer(backend.port());
        RawHttp client = connect().readTimeout(Duration.ofSeconds(10));
        RawHttp.Response response = client.get("/hints");
        assertEquals(200, response.status(), "interim answers are not passed on; the final one is");
        assertEquals("final", response.text());
        assertEquals("next", client.get("/next").text(), "the connection goes on");
        assertEquals(1, backend.requestConnections());
    }
}
