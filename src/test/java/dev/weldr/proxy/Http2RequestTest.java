package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An HTTP/2 request's checks (RFC 9113 §8.1.1, §8.2, §8.3) and its translation for an HTTP/1.1 backend. */
class Http2RequestTest {

    private static Http2Headers get(String path) {
        return new DefaultHttp2Headers(false).method("GET").scheme("https").path(path).authority("Shop.Example:8443");
    }

    private static String http1(Http2Request r, boolean secure) {
        ByteBuf out = Unpooled.buffer(r.http1Bound("192.0.2.7"));
        r.writeHttp1(out, "192.0.2.7", false, secure);
        assertTrue(out.readableBytes() <= r.http1Bound("192.0.2.7"), "within its bound");
        String text = out.toString(StandardCharsets.ISO_8859_1);
        out.release();
        return text;
    }

    @Test
    void shouldTranslateForAnHttp11BackendJoiningCookiesAndDroppingWhatOnlyHttp2Knows() throws Exception {
        Http2Headers h = get("/cart?item=1")
                .add("cookie", "a=1").add("user-agent", "test").add("cookie", "b=2").add("te", "trailers")
                .add("x-forwarded-for", "198.51.100.1").add("x-forwarded-proto", "gopher").add("via", "1.1 edge");
        Http2Request r = Http2Request.of(h, false);
        assertEquals("GET /cart?item=1 HTTP/1.1\r\n"
                + "host: Shop.Example:8443\r\n"
                + "user-agent: test\r\n"
                + "cookie: a=1; b=2\r\n"
                + "via: 1.1 edge, 2.0 weldr\r\n"
                + "x-forwarded-for: 198.51.100.1, 192.0.2.7\r\n"
                + "x-forwarded-proto: https\r\n"
                + "x-forwarded-host: Shop.Example:8443\r\n\r\n", http1(r, true));
        assertEquals("GET /cart?item=1 HTTP/2.0", r.requestLine());
        assertEquals(HttpHead.GET, r.methodKind());
        assertNull(r.refusal());
        // Routes match the host without its port.
        assertEquals("Shop.Example", new String(r.bytes(), r.routeHostStart(), r.routeHostEnd() - r.routeHostStart(), StandardCharsets.ISO_8859_1));
    }

    @Test
    void shouldSendABodyWithoutLengthInChunksAndOneWithALengthAsItCame() throws Exception {
        Http2Request chunked = Http2Request.of(get("/up").method("POST"), true);
        assertTrue(chunked.chunkedToHttp1());
        assertTrue(http1(chunked, false).contains("transfer-encoding: chunked\r\n"));
        Http2Request sized = Http2Request.of(get("/up").method("POST").add("content-length", "5"), true);
        assertFalse(sized.chunkedToHttp1());
        assertEquals(5, sized.declaredLength());
        assertTrue(http1(sized, false).contains("content-length: 5\r\n"));
        assertFalse(http1(sized, false).contains("transfer-encoding"));
        assertEquals(0, Http2Request.of(get("/"), false).declaredLength(), "END_STREAM on the headers: no body");
    }

    @Test
    void shouldRefuseWhatRfc9113CallsMalformed() {
        assertThrows(Http2Request.Malformed.class, () -> Http2Request.of(new DefaultHttp2Headers(false).scheme("http").path("/"), false));
        for (String name : new String[]{"connection", "keep-alive", "proxy-connection", "upgrade", "transfer-encoding"}) {
            assertThrows(Http2Request.Malformed.class, () -> Http2Request.of(get("/").add(name, "x"), false), name);
        }
        assertThrows(Http2Request.Malformed.class, () -> Http2Request.of(get("/").add("te", "gzip"), false), "TE other than trailers");
        assertThrows(Http2Request.Malformed.class, () -> Http2Request.of(get("/").add("x-a", "one\r\nx-b: two"), false),
                "CR LF would split the line for HTTP/1.1");
        assertThrows(Http2Request.Malformed.class, () -> Http2Request.of(get("/").add("x-a", "nul\0"), false));
        assertThrows(Http2Request.Malformed.class, () -> Http2Request.of(get("/").add("x-a", " padded"), false));
        assertThrows(Http2Request.Malformed.class, () -> Http2Request.of(get("/").add("X-Upper", "v"), false));
        assertThrows(Http2Request.Malformed.class, () -> Http2Request.of(get("relative"), false));
        assertThrows(Http2Request.Malformed.class, () -> Http2Request.of(get("/a b"), false));
        assertThrows(Http2Request.Malformed.class, () -> Http2Request.of(get("*"), false), "* only for OPTIONS");
        assertThrows(Http2Request.Malformed.class, () -> Http2Request.of(get("/").add(":status", "200"), false));
        assertThrows(Http2Request.Malformed.class, () -> Http2Request.of(get("/").add("content-length", "1").add("content-length", "2"), true));
        assertThrows(Http2Request.Malformed.class, () -> Http2Request.of(get("/").add("content-length", "-1"), true));
        assertThrows(Http2Request.Malformed.class, () -> Http2Request.of(get("/").authority("user@shop.example"), false), "no userinfo");
    }

    @Test
    void shouldAnswerConnectAndAMissingAuthorityInsteadOfRoutingThem() throws Exception {
        Http2Request connect = Http2Request.of(new DefaultHttp2Headers(false).method("CONNECT").authority("db.internal:5432"), false);
        assertEquals(405, connect.refusal().status);
        Http2Request noHost = Http2Request.of(new DefaultHttp2Headers(false).method("GET").scheme("http").path("/"), false);
        assertEquals(400, noHost.refusal().status);
        Http2Request hostHeader = Http2Request.of(new DefaultHttp2Headers(false).method("GET").scheme("http").path("/")
                .add("host", "shop.example"), false);
        assertNull(hostHeader.refusal(), "Host stands in for :authority");
        assertTrue(Http2Request.of(get("*").method("OPTIONS"), false).refusal() == null);
    }
}
