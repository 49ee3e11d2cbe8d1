package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * weldr's own HTTP/1.1 reading and writing, byte by byte: what a head may look like, how bodies
 * are framed, what is refused (and with which status), and what goes out on the other side.
 */
class HttpWireTest {

    // ---- request heads ----------------------------------------------------------------------

    @Test
    void shouldParseARequestHeadWhereItLies() {
        HttpHead h = request("GET /a/b?q=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nX-Thing:  spaced value  \r\nContent-Length: 5\r\n\r\n");
        assertEquals("GET", h.methodName());
        assertEquals(HttpHead.GET, h.method);
        assertEquals("/a/b?q=1", h.target());
        assertEquals("/a/b", path(h));
        assertEquals(HttpHead.HTTP_1_1, h.version);
        assertEquals("example.com", routeHost(h));
        assertEquals("spaced value", h.get("x-thing"));
        assertEquals(5, h.contentLength);
        assertTrue(h.requestHasBody());
        assertTrue(h.keepAlive());
    }

    @Test
    void shouldReadAnAbsoluteFormTargetAsItsAuthorityAndItsOriginForm() {
        HttpHead h = request("GET HTTP://Shop.Example:8080/a/b?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n");
        assertEquals("shop.example", routeHost(h), "the target's authority, not the Host header");
        assertEquals("/a/b", path(h));
        assertEquals("/a/b?q=1", h.target());
        HttpHead bare = request("GET https://a.test HTTP/1.1\r\nHost: a.test\r\n\r\n");
        assertEquals("/", path(bare));
        assertEquals("/", bare.target());
        HttpHead query = request("GET http://[::1]:81?x=1 HTTP/1.0\r\n\r\n");
        assertEquals("::1", routeHost(query));
        assertEquals("/", path(query));
        assertEquals("/?x=1", query.target());
        // Not absolute: forms that are not a path go on as they came.
        assertEquals("*", request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").target());
        assertEquals("a", routeHost(request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")));
        assertEquals("httpx://a/b", request("GET httpx://a/b HTTP/1.1\r\nHost: a\r\n\r\n").target());
    }

    @Test
    void shouldRefuseAnAbsoluteFormTargetWithoutHostOrWithUserInformation() {
        assertBad(400, "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n");
        assertBad(400, "GET http:// HTTP/1.1\r\nHost: a\r\n\r\n");
        assertBad(400, "GET http://?x HTTP/1.1\r\nHost: a\r\n\r\n");
        assertBad(400, "GET http://user:pw@a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n");
    }

    @Test
    void shouldTakeBareLineFeedsAndIgnoreEmptyLinesBeforeTheRequestLine() {
        HttpHead h = scan(true, "\r\n\r\nHEAD / HTTP/1.0\nHost: a\nConnection: keep-alive\n\nrest");
        assertEquals(HttpHead.HEAD, h.method);
        assertEquals(HttpHead.HTTP_1_0, h.version);
        assertTrue(h.keepAlive());
        assertEquals("a", h.get("Host"));
    }

    @Test
    void shouldKnowWhenTheClientConnectionCloses() {
        assertFalse(request("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keepAlive());
        assertFalse(request("GET / HTTP/1.0\r\n\r\n").keepAlive());
    }

    @Test
    void shouldRefuseMalformedRequestHeadsWithTheRightStatus() {
        assertBad(400, "GET / HTTP/1.1\r\nHost: a\r\n folded: value\r\n\r\n");
        assertBad(400, "GET / HTTP/1.1\r\nHost : a\r\n\r\n");
        assertBad(400, "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n");
        assertBad(400, "GET / HTTP/1.1\r\nHost: a\r\nNo-Colon\r\n\r\n");
        assertBad(400, "GET / HTTP/1.1\r\nHost: a\r\nX: bad\u0001char\r\n\r\n");
        assertBad(400, "GET / HTTP/1.1\r\nHost: a\r\nX: bare\rcr\r\n\r\n");
        assertBad(400, "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n");
        assertBad(400, "GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n");
        assertBad(400, "GET / HTTX/1.1\r\nHost: a\r\n\r\n");
        assertBad(400, "G@T / HTTP/1.1\r\nHost: a\r\n\r\n");
        assertBad(505, "GET / HTTP/2.0\r\nHost: a\r\n\r\n");
        assertBad(400, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    }

    @Test
    void shouldRefuseAmbiguousBodyFramingAsNginxDoes() {
        // Request smuggling: both framings, or lengths that disagree.
        assertBad(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertBad(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
        assertBad(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n");
        assertBad(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n");
        assertBad(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n");
        assertBad(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n");
        assertBad(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n");
        assertEquals(5, request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n").contentLength);
    }

    @Test
    void shouldTellChunkedFromOtherTransferCodings() {
        HttpHead chunked = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n");
        assertTrue(chunked.chunked && chunked.onlyChunked && chunked.requestHasBody());
        HttpHead gzip = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assertTrue(gzip.chunked);
        assertFalse(gzip.onlyChunked);
        assertEquals("gzip, chunked", gzip.transferCodings());
        HttpHead twoLines = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertFalse(twoLines.onlyChunked);
    }

    @Test
    void shouldRefuseConnectAndAnAsteriskOtherThanOptions() {
        assertBad(405, "CONNECT shop.example:443 HTTP/1.1\r\nHost: shop.example:443\r\n\r\n");
        assertBad(400, "GET * HTTP/1.1\r\nHost: a\r\n\r\n");
        assertBad(400, "OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n");
        assertEquals("*", request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").target());
    }

    @Test
    void shouldRefuseTransferEncodingFromAnHttp10Client() {
        assertBad(400, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertBad(400, "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n");
    }

    @Test
    void shouldRefuseWhitespaceOrControlsInTheHostAsTheyCameOrPercentEncoded() {
        assertBad(400, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n");
        assertBad(400, "GET / HTTP/1.1\r\nHost: a\tb\r\n\r\n");
        assertBad(400, "GET http://a%20b/ HTTP/1.1\r\nHost: x\r\n\r\n");
        assertBad(400, "GET http://a%0d%0aX:1/ HTTP/1.1\r\nHost: x\r\n\r\n");
        assertBad(400, "GET http://a%09b/ HTTP/1.1\r\nHost: x\r\n\r\n");
        assertBad(400, "GET http://a%7F/ HTTP/1.1\r\nHost: x\r\n\r\n");
        assertBad(400, "GET http://a%2/ HTTP/1.1\r\nHost: x\r\n\r\n");
        assertBad(400, "GET http://a%zzb/ HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("a%41b", routeHost(request("GET http://a%41b:8080/ HTTP/1.1\r\nHost: x\r\n\r\n")));
        assertEquals("", routeHost(request("GET / HTTP/1.0\r\n\r\n")));
    }

    @Test
    void shouldRemoveEveryLineTheConnectionHeadersNameWhereverTheyAre() {
        HttpHead h = request("GET / HTTP/1.1\r\nX-A: 1\r\nHost: a\r\nConnection: x-a, X-B\r\nx-b: 2\r\nX-Kept: 3\r\n"
                + "Connection: X-C\r\nX-c: 4\r\nX-A: 5\r\n\r\n");
        String text = forwarded(h, "127.0.0.9");
        assertTrue(text.contains("X-Kept: 3\r\n"), text);
        for (String gone : new String[] {"X-A", "x-b", "X-c", "onnection"}) {
            assertFalse(text.contains(gone), gone + " in " + text);
        }
    }

    @Test
    void shouldRefuseAConnectionHeaderNamingMoreHeadersThanTheCap() {
        StringBuilder names = new StringBuilder("close, keep-alive, upgrade");
        for (int i = 0; i < HttpHead.MAX_CONNECTION_NAMES; i++) {
            names.append(", x-").append(i);
        }
        String atCap = "GET / HTTP/1.1\r\nHost: a\r\nConnection: " + names + "\r\nX-1: gone\r\nX-Kept: k\r\n\r\n";
        String text = forwarded(request(atCap), "127.0.0.9");
        assertFalse(text.contains("gone"), text);
        assertTrue(text.contains("X-Kept: k"), text);
        // One more name, even in a Connection line of its own, or the same name again: refused.
        assertBad(400, atCap.replace("X-1: gone", "Connection: x-one-more"));
        assertBad(400, atCap.replace("X-1: gone", "Connection: x-1"));
        HttpHead.BadHead fromBackend = assertThrows(HttpHead.BadHead.class, () -> scan(false,
                "HTTP/1.1 200 OK\r\nConnection: " + names + ", x-more\r\nContent-Length: 0\r\n\r\n"));
        assertEquals(502, fromBackend.status);
    }

    @Test
    void shouldRefuseAResponseWithATransferCodingOtherThanChunked() {
        // weldr re-frames bodies in chunks only: another coding would be lost on the way to the client.
        for (String codings : new String[] {"gzip, chunked", "gzip", "chunked, gzip", "chunked\r\nTransfer-Encoding: chunked"}) {
            HttpHead.BadHead bad = assertThrows(HttpHead.BadHead.class,
                    () -> scan(false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: " + codings + "\r\n\r\n"), codings);
            assertEquals(502, bad.status);
        }
    }

    @Test
    void shouldForwardA204WithoutTheContentLengthItCameWith() {
        HttpHead h = scan(false, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n");
        ByteBuf out = Unpooled.buffer();
        Heads.response(out, h, false, Heads.CONNECTION_UNSAID, null, new HttpDate());
        String text = out.toString(StandardCharsets.US_ASCII);
        out.release();
        assertFalse(text.toLowerCase(java.util.Locale.ROOT).contains("content-length"), text);
    }

    // ---- finding heads ----------------------------------------------------------------------

    @Test
    void shouldWaitForAHeadThatComesByteByByte() {
        String text = "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n";
        HeadScanner scanner = new HeadScanner(true);
        ByteBuf in = Unpooled.buffer();
        HttpHead h = null;
        for (int i = 0; i < text.length(); i++) {
            assertNull(h, "a head before its end, at byte " + i);
            in.writeByte(text.charAt(i));
            h = scanner.next(in);
        }
        assertNotNull(h);
        assertEquals("/slow", h.target());
        assertFalse(in.isReadable());
    }

    @Test
    void shouldIgnoreAnEmptyLineBeforeTheRequestLineWhoseCrAndLfComeApart() {
        HeadScanner scanner = new HeadScanner(true);
        ByteBuf in = ascii("\r");
        assertNull(scanner.next(in));
        in.writeBytes("\nGET /late HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        HttpHead h = scanner.next(in);
        assertNotNull(h);
        assertEquals("/late", h.target());
    }

    @Test
    void shouldFindHeadsAfterTheBufferWasReplacedByABiggerOne() {
        HeadScanner scanner = new HeadScanner(true);
        ByteBuf first = Unpooled.copiedBuffer("GET /x HTTP/1.1\r\nHo", StandardCharsets.US_ASCII);
        assertNull(scanner.next(first));
        ByteBuf bigger = Unpooled.buffer(64).writeBytes(first).writeBytes("st: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        HttpHead h = scanner.next(bigger);
        assertNotNull(h);
        assertEquals("a", h.get("host"));
    }

    @Test
    void shouldRefuseTooLongRequestLinesAndTooLargeHeaders() {
        HttpHead.BadHead line = assertThrows(HttpHead.BadHead.class,
                () -> new HeadScanner(true).next(ascii("GET /" + "a".repeat(Loop.MAX_INITIAL_LINE) + " HTTP/1.1\r\n")));
        assertEquals(414, line.status);
        HttpHead.BadHead lineSoFar = assertThrows(HttpHead.BadHead.class,
                () -> new HeadScanner(true).next(ascii("GET /" + "a".repeat(Loop.MAX_INITIAL_LINE))));
        assertEquals(414, lineSoFar.status);
        HttpHead.BadHead headers = assertThrows(HttpHead.BadHead.class,
                () -> new HeadScanner(true).next(ascii("GET / HTTP/1.1\r\nX: " + "a".repeat(Loop.MAX_HEADER_SIZE) + "\r\n\r\n")));
        assertEquals(431, headers.status);
    }

    // ---- response heads ---------------------------------------------------------------------

    @Test
    void shouldLetTransferEncodingOverrideContentLengthInAResponse() {
        HttpHead h = scan(false, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertEquals(200, h.status);
        assertTrue(h.chunked);
        assertEquals(-1, h.contentLength);
    }

    @Test
    void shouldRefuseAResponseItCannotFrame() {
        assertThrows(HttpHead.BadHead.class, () -> scan(false, "HTTP/1.1 20 OK\r\n\r\n"));
        assertThrows(HttpHead.BadHead.class, () -> scan(false, "HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\n"));
        assertThrows(HttpHead.BadHead.class, () -> scan(false, "HTTP/1.1 200 OK\r\nContent-Length : 3\r\n\r\n"));
        assertEquals(204, scan(false, "HTTP/1.1 204\r\n\r\n").status);
    }

    // ---- bodies -----------------------------------------------------------------------------

    @Test
    void shouldReadAChunkedBodyWithExtensionsAndTrailersSplitAnywhere() {
        String wire = "5;name=\"v\"\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 11\r\n\r\nNEXT";
        for (int split = 1; split < wire.length(); split++) {
            BodyReader reader = new BodyReader(400);
            reader.start(BodyReader.CHUNKED, -1);
            Collect sink = new Collect();
            ByteBuf in = ascii(wire.substring(0, split));
            reader.read(in, sink);
            in = Unpooled.buffer().writeBytes(in).writeBytes(wire.substring(split).getBytes(StandardCharsets.US_ASCII));
            assertTrue(reader.read(in, sink), "ended, split at " + split);
            assertEquals("hello world", sink.data.toString(), "split at " + split);
            assertEquals("X-Sum: 11\r\n", sink.trailers);
            assertEquals("NEXT", in.toString(StandardCharsets.US_ASCII), "the next message's bytes are left alone");
        }
    }

    @Test
    void shouldRefuseBrokenChunks() {
        assertBadBody("zz\r\nhello\r\n0\r\n\r\n");
        assertBadBody("5\r\nhello!!\r\n0\r\n\r\n");
        assertBadBody("5\u0001\r\nhello\r\n0\r\n\r\n");
        assertBadBody("fffffffffffffffff\r\n");
        assertBadBody("0\r\nno colon\r\n\r\n");
        // RFC 9112 §7.1.1: what follows a size is extensions, each after ';'.
        assertBadBody("5 junk\r\nhello\r\n0\r\n\r\n");
        assertBadBody("5x\r\nhello\r\n0\r\n\r\n");
        assertBadBody("5 \"q\"\r\nhello\r\n0\r\n\r\n");
    }

    @Test
    void shouldTakeWhitespaceBeforeAChunkExtension() {
        BodyReader reader = new BodyReader(400);
        reader.start(BodyReader.CHUNKED, -1);
        Collect sink = new Collect();
        assertTrue(reader.read(ascii("5 ;a=b\r\nhello\r\n3\t\r\nabc\r\n0\r\n\r\n"), sink));
        assertEquals("helloabc", sink.data.toString());
    }

    @Test
    void shouldDropTrailerFieldsThatFrameRouteOrControlTheMessage() {
        BodyReader reader = new BodyReader(400);
        reader.start(BodyReader.CHUNKED, -1);
        Collect sink = new Collect();
        assertTrue(reader.read(ascii("1\r\nx\r\n0\r\nX-Checksum: 1\r\nContent-Length: 5\r\nTRANSFER-ENCODING: chunked\r\n"
                + "Host: evil.example\r\nConnection: close\r\nAuthorization: Basic eA==\r\nContent-Type: text/evil\r\n"
                + "X-Forwarded-For: 1.2.3.4\r\nServer-Timing: db;dur=5\r\n\r\n"), sink));
        assertEquals("X-Checksum: 1\r\nServer-Timing: db;dur=5\r\n", sink.trailers);
    }

    @Test
    void shouldReadALengthAndNotOneByteMore() {
        BodyReader reader = new BodyReader(400);
        reader.start(BodyReader.LENGTH, 4);
        Collect sink = new Collect();
        ByteBuf in = ascii("abcdGET");
        assertTrue(reader.read(in, sink));
        assertEquals("abcd", sink.data.toString());
        assertEquals("GET", in.toString(StandardCharsets.US_ASCII));
    }

    // ---- what goes out ------------------------------------------------------------------------

    @Test
    void shouldForwardTheRequestLinesItKeepsAsTheyCame() {
        HttpHead h = request("POST /p HTTP/1.0\nHost: a.test\nConnection: keep-alive, X-Secret\nX-Secret: 1\n"
                + "Content-Length: 2\nKeep-Alive: 5\nVia: 1.0 edge\nX-Forwarded-For: 10.0.0.1\nX-Forwarded-Proto: https\n"
                + "Expect: 100-continue\nUser-Agent: Test/1\n\n");
        String text = forwarded(h, "127.0.0.9");
        assertEquals("POST /p HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2\r\nUser-Agent: Test/1\r\n"
                + "via: 1.0 edge, 1.1 weldr\r\nx-forwarded-for: 10.0.0.1, 127.0.0.9\r\nx-forwarded-proto: http\r\n"
                + "x-forwarded-host: a.test\r\n\r\n", text);
    }

    @Test
    void shouldForwardAnAbsoluteFormRequestInOriginFormWithItsAuthorityAsHost() {
        HttpHead h = request("GET http://a.test:81?q HTTP/1.1\r\nHost: b.test\r\nUser-Agent: T\r\n\r\n");
        String text = forwarded(h, "127.0.0.9");
        assertEquals("GET /?q HTTP/1.1\r\nhost: a.test:81\r\nUser-Agent: T\r\nvia: 1.1 weldr\r\n"
                + "x-forwarded-for: 127.0.0.9\r\nx-forwarded-proto: http\r\nx-forwarded-host: a.test:81\r\n\r\n", text);
    }

    /** The head as it goes to a backend for this client, checked against the bound the loop reserves. */
    private static String forwarded(HttpHead h, String client) {
        ByteBuf out = Unpooled.buffer(Heads.requestBound(h, client));
        Heads.request(out, h, client, false);
        assertTrue(out.readableBytes() <= Heads.requestBound(h, client));
        String text = out.toString(StandardCharsets.US_ASCII);
        out.release();
        return text;
    }

    @Test
    void shouldNotDropTheBodysFramingWhateverConnectionNames() {
        HttpHead h = request("POST / HTTP/1.1\r\nHost: a\r\nConnection: content-length\r\nContent-Length: 2\r\n\r\n");
        ByteBuf out = Unpooled.buffer();
        Heads.request(out, h, "127.0.0.1", false);
        String text = out.toString(StandardCharsets.US_ASCII);
        out.release();
        assertTrue(text.contains("Content-Length: 2\r\n"), text);
    }

    @Test
    void shouldWriteTheResponseForTheClientsConnection() {
        HttpHead h = scan(false, "HTTP/1.0 200 Fine\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nTransfer-Encoding: chunked\r\n"
                + "Content-Length: 9\r\nServer: s\r\n\r\n");
        ByteBuf out = Unpooled.buffer();
        Heads.response(out, h, true, Heads.CONNECTION_UNSAID, null, new HttpDate());
        assertTrue(out.readableBytes() <= Heads.responseBound(h));
        String text = out.toString(StandardCharsets.US_ASCII);
        out.release();
        assertTrue(text.startsWith("HTTP/1.1 200 Fine\r\nServer: s\r\nvia: 1.1 weldr\r\ndate: "), text);
        assertTrue(text.endsWith(" GMT\r\ntransfer-encoding: chunked\r\n\r\n"), text);
        assertFalse(text.contains("X-Hop"), text);
        assertFalse(text.contains("Content-Length"), text);
    }

    @Test
    void shouldNeverWriteMoreThanTheBoundsItPromises() {
        // The loop reserves the bound in its shared buffer before writing: it must hold for the
        // worst heads (bare line feeds made CR LF, short lines, lists joined, everything appended).
        StringBuilder request = new StringBuilder("M T HTTP/1.0\nHost:h\n");
        StringBuilder response = new StringBuilder("HTTP/1.0 200\n");
        for (int i = 0; i < 200; i++) {
            request.append(i % 2 == 0 ? "Via:v\n" : "X-Forwarded-For:f\n").append("A:\n");
            response.append("Via:v\nB:\n");
        }
        HttpHead req = request(request.append('\n').toString());
        ByteBuf out = Unpooled.buffer();
        Heads.request(out, req, "2001:db8::1", true);
        assertTrue(out.readableBytes() <= Heads.requestBound(req, "2001:db8::1"), out.readableBytes() + " bytes");
        HttpHead resp = scan(false, response.append('\n').toString());
        out.clear();
        Heads.response(out, resp, true, Heads.CONNECTION_KEEP_ALIVE, null, new HttpDate());
        assertTrue(out.readableBytes() <= Heads.responseBound(resp), out.readableBytes() + " bytes");
        HttpHead absolute = request("M http://" + "a".repeat(300) + " HTTP/1.0\nHost:h\n\n");
        out.clear();
        Heads.request(out, absolute, "2001:db8::1", false);
        assertTrue(out.readableBytes() <= Heads.requestBound(absolute, "2001:db8::1"), out.readableBytes() + " bytes");
        HttpHead upgrade = scan(false, "HTTP/1.1 101\nUpgrade:" + "p".repeat(300) + "\n\n");
        out.clear();
        Heads.response(out, upgrade, false, Heads.CONNECTION_UNSAID, "p".repeat(300), new HttpDate());
        assertTrue(out.readableBytes() <= Heads.responseBound(upgrade), out.readableBytes() + " bytes");
        out.release();
    }

    @Test
    void shouldWriteChunkSizesInHex() {
        for (int size : new int[] {1, 15, 16, 255, 4096, 65535, 1 << 20, Integer.MAX_VALUE}) {
            ByteBuf out = Unpooled.buffer(10, 10);
            Heads.chunkStart(out, size);
            assertEquals(Integer.toHexString(size) + "\r\n", out.toString(StandardCharsets.US_ASCII));
            out.release();
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** The host routes match, as a string (the proxy itself looks it up by its bytes). */
    static String routeHost(HttpHead h) {
        return new String(h.b, h.routeHostStart, h.routeHostEnd - h.routeHostStart, StandardCharsets.ISO_8859_1)
                .toLowerCase(java.util.Locale.ROOT);
    }

    /** The path routes match, as a string: the target up to its query, "/" for an absolute form without one. */
    static String path(HttpHead h) {
        if (h.targetNeedsSlash()) {
            return "/";
        }
        int end = h.targetStart;
        while (end < h.targetEnd && h.b[end] != '?' && h.b[end] != '#') {
            end++;
        }
        return new String(h.b, h.targetStart, end - h.targetStart, StandardCharsets.ISO_8859_1);
    }

    private static HttpHead request(String text) {
        return scan(true, text);
    }

    private static HttpHead scan(boolean request, String text) {
        HttpHead h = new HeadScanner(request).next(ascii(text));
        assertNotNull(h, "a whole head");
        return h;
    }

    private static void assertBad(int status, String text) {
        HttpHead.BadHead bad = assertThrows(HttpHead.BadHead.class, () -> request(text), text);
        assertEquals(status, bad.status, text + " -> " + bad.getMessage());
    }

    private static void assertBadBody(String wire) {
        BodyReader reader = new BodyReader(400);
        reader.start(BodyReader.CHUNKED, -1);
        HttpHead.BadHead bad = assertThrows(HttpHead.BadHead.class, () -> reader.read(ascii(wire), new Collect()), wire);
        assertEquals(400, bad.status);
    }

    private static ByteBuf ascii(String text) {
        return Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1);
    }

    private static final class Collect implements BodyReader.Sink {
        final StringBuilder data = new StringBuilder();
        String trailers;
        final List<Boolean> ends = new ArrayList<>();

        @Override
        public void data(ByteBuf part) {
            data.append(part.toString(StandardCharsets.US_ASCII));
            part.release();
        }

        @Override
        public void end(ByteBuf t) {
            ends.add(true);
            trailers = t == null ? null : t.toString(StandardCharsets.US_ASCII);
            if (t != null) {
                t.release();
            }
        }
    }
}
