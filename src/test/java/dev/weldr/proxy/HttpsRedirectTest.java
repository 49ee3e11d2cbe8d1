package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link HttpsRedirect} and {@link Heads#redirect}: which hosts a Location may name, and the 308's bytes. */
class HttpsRedirectTest {

    private static HttpHead request(String target, String host) {
        HttpHead h = new HeadScanner(true).next(Unpooled.copiedBuffer(
                "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n", StandardCharsets.ISO_8859_1));
        assertTrue(h != null, "a whole head");
        return h;
    }

    private static String location(String target, String host, int port) {
        HttpHead h = request(target, host);
        int end = HttpsRedirect.hostEnd(h);
        assertTrue(end > 0, host);
        ByteBuf out = Heads.redirect(ByteBufAllocator.DEFAULT, h, end, port, Heads.CONNECTION_UNSAID, new HttpDate());
        String text = out.toString(StandardCharsets.ISO_8859_1);
        out.release();
        assertTrue(text.startsWith("HTTP/1.1 308 Permanent Redirect\r\n"), text);
        assertTrue(text.contains("\r\ncontent-length: 0\r\n") && text.endsWith("\r\n\r\n"), text);
        int at = text.indexOf("location: ") + 10;
        return text.substring(at, text.indexOf('\r', at));
    }

    @Test
    void shouldNameThePortUnless443AndDropTheRequestsPort() {
        assertEquals("https://shop.example/a/b?c=d&e", location("/a/b?c=d&e", "shop.example:8080", 443));
        assertEquals("https://shop.example:8443/", location("/", "shop.example", 8443));
        assertEquals("https://[::1]/x", location("/x", "[::1]:80", 443));
        assertEquals("https://[2001:db8::1]:9443/x", location("/x", "[2001:db8::1]", 9443));
        assertEquals("https://10.0.0.7/", location("/", "10.0.0.7:80", 443));
        assertEquals("https://a.test/?q", location("http://a.test?q", "ignored.test", 443));
    }

    @Test
    void shouldRefuseHostsThatAreNotAHostNameOrAnAddress() {
        for (String host : new String[]{"a/b", "a%2eb", "u@h", "a_b", "h:123456", "h:8o", "[::1", "[]", "[::g]", "[::1]x",
                "a".repeat(254)}) {
            assertEquals(-1, HttpsRedirect.hostEnd(request("/", host)), host);
        }
        HttpHead longest = request("/", "a".repeat(253));
        assertEquals(longest.hostStart + 253, HttpsRedirect.hostEnd(longest));
    }

    @Test
    void shouldSpareTheAcmeChallengeOnly() {
        assertFalse(HttpsRedirect.applies(request("/.well-known/acme-challenge/t0k3n", "a")));
        assertTrue(HttpsRedirect.applies(request("/.well-known/acme-challenge", "a")));
        assertTrue(HttpsRedirect.applies(request("/.well-known/other/", "a")));
        assertTrue(HttpsRedirect.applies(request("/", "a")));
        HttpHead options = new HeadScanner(true).next(Unpooled.copiedBuffer("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
                StandardCharsets.ISO_8859_1));
        assertFalse(HttpsRedirect.applies(options), "OPTIONS * names no resource to redirect to");
    }

    @Test
    void shouldReadTheTokenOfAnAcmeChallengeOnly() {
        assertEquals("t0k3n-_A", HttpsRedirect.acmeToken(request("/.well-known/acme-challenge/t0k3n-_A", "a")));
        assertEquals(null, HttpsRedirect.acmeToken(request("/.well-known/acme-challenge/", "a")));
        assertEquals(null, HttpsRedirect.acmeToken(request("/.well-known/acme-challenge/a/b", "a")), "a token has no slash");
        assertEquals(null, HttpsRedirect.acmeToken(request("/.well-known/acme-challenge/a?x", "a")), "nor a query");
        assertEquals(null, HttpsRedirect.acmeToken(request("/.well-known/acme-challenge/a%2e", "a")), "nor an escape");
        assertEquals(null, HttpsRedirect.acmeToken(request("/x/.well-known/acme-challenge/a", "a")));
        HttpHead post = new HeadScanner(true).next(Unpooled.copiedBuffer(
                "POST /.well-known/acme-challenge/t HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", StandardCharsets.ISO_8859_1));
        assertEquals(null, HttpsRedirect.acmeToken(post), "a CA fetches the token with GET");
    }
}
