package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;

import java.util.Set;

/**
 * RFC 9110 §7.6.1: headers that concern one connection and must not be forwarded, and the few
 * headers a proxy reads or rewrites. A name is classified once, where it lies in the head's
 * bytes, without allocating: the hot path looks at every header of every request and response.
 */
final class HopByHop {

    /** An end-to-end header: forwarded as it is. */
    static final int FORWARD = 0;
    /** Keep-Alive, TE, Trailer, Proxy-*: never forwarded. */
    static final int HOP = 1;
    static final int HOST = 2;
    static final int VIA = 3;
    static final int X_FORWARDED_FOR = 4;
    static final int X_FORWARDED_PROTO = 5;
    static final int X_FORWARDED_HOST = 6;
    static final int DATE = 7;
    static final int EXPECT = 8;
    /** Hop-by-hop too, but it decides how the body is framed: the proxy sets it itself. */
    static final int TRANSFER_ENCODING = 9;
    static final int CONTENT_LENGTH = 10;
    /** Hop-by-hop; it may name more hop-by-hop headers. */
    static final int CONNECTION = 11;
    /** Hop-by-hop; read for WebSocket upgrades. */
    static final int UPGRADE = 12;

    private HopByHop() {
    }

    /** The kind of the header whose name is {@code len} bytes at {@code off}. */
    static int kind(byte[] b, int off, int len) {
        switch (len) {
            case 2:
                return is(b, off, "te") ? HOP : FORWARD;
            case 3:
                return is(b, off, "via") ? VIA : FORWARD;
            case 4:
                if (is(b, off, "host")) {
                    return HOST;
                }
                return is(b, off, "date") ? DATE : FORWARD;
            case 6:
                return is(b, off, "expect") ? EXPECT : FORWARD;
            case 7:
                if (is(b, off, "upgrade")) {
                    return UPGRADE;
                }
                return is(b, off, "trailer") ? HOP : FORWARD;
            case 10:
                if (is(b, off, "connection")) {
                    return CONNECTION;
                }
                return is(b, off, "keep-alive") ? HOP : FORWARD;
            case 14:
                return is(b, off, "content-length") ? CONTENT_LENGTH : FORWARD;
            case 15:
                return is(b, off, "x-forwarded-for") ? X_FORWARDED_FOR : FORWARD;
            case 16:
                if (is(b, off, "proxy-connection")) {
                    return HOP;
                }
                return is(b, off, "x-forwarded-host") ? X_FORWARDED_HOST : FORWARD;
            case 17:
                if (is(b, off, "transfer-encoding")) {
                    return TRANSFER_ENCODING;
                }
                return is(b, off, "x-forwarded-proto") ? X_FORWARDED_PROTO : FORWARD;
            case 18:
                return is(b, off, "proxy-authenticate") ? HOP : FORWARD;
            case 19:
                return is(b, off, "proxy-authorization") ? HOP : FORWARD;
            default:
                return FORWARD;
        }
    }

    /** Connection, Upgrade, Keep-Alive, TE, Trailer, Transfer-Encoding, Proxy-*: never forwarded as they came. */
    static boolean isHopByHop(int kind) {
        return kind == HOP || kind == CONNECTION || kind == UPGRADE || kind == TRANSFER_ENCODING;
    }

    /**
     * RFC 9110 §6.5.1: fields that cannot be processed after the content, because they frame or
     * route the message, modify the request, authenticate, control the response or describe the
     * content; plus the hop-by-hop ones and the headers a proxy sets. A recipient that merged one
     * of them into the header section would act on what a client slipped past weldr's checks, so
     * weldr does not forward them in trailers.
     */
    private static final Set<String> FORBIDDEN_IN_TRAILERS = Set.of(
            // framing and hop-by-hop
            "content-length", "transfer-encoding", "trailer", "connection", "keep-alive", "proxy-connection", "te", "upgrade",
            // routing and what proxies set
            "host", "via", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "max-forwards",
            // request modifiers
            "expect", "range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "if-range",
            "cache-control", "pragma", "accept", "accept-encoding", "accept-language", "accept-charset",
            // authentication and cookies
            "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate", "authentication-info",
            "proxy-authentication-info", "cookie", "set-cookie",
            // response control
            "age", "expires", "date", "location", "retry-after", "vary", "warning",
            // the content's format
            "content-type", "content-encoding", "content-range", "content-language", "content-location");

    /** Whether the trailer field named by {@code len} bytes at {@code off} must not be forwarded (trailers are rare: a string each costs the hot path nothing). */
    static boolean forbiddenInTrailers(ByteBuf in, int off, int len) {
        char[] name = new char[len];
        for (int i = 0; i < len; i++) {
            name[i] = (char) fold(in.getByte(off + i) & 0xff);
        }
        return FORBIDDEN_IN_TRAILERS.contains(new String(name));
    }

    /** RFC 9113 §8.2.2: the connection-specific fields an HTTP/2 message must not carry (names lower case). */
    static boolean connectionSpecific(CharSequence name) {
        int n = name.length();
        // Only these lengths can be one (no string made for the others: every header passes here).
        return (n == 7 || n == 10 || n == 16 || n == 17) && CONNECTION_SPECIFIC.contains(name.toString());
    }

    private static final Set<String> CONNECTION_SPECIFIC = Set.of("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade");

    /** {@link #forbiddenInTrailers(ByteBuf, int, int)} of a lower-case name. */
    static boolean forbiddenInTrailers(String lowerName) {
        return FORBIDDEN_IN_TRAILERS.contains(lowerName);
    }

    /** ASCII case-insensitive equality of a name and a same-length lower-case name. */
    private static boolean is(byte[] b, int off, String lower) {
        for (int i = 0; i < lower.length(); i++) {
            int c = b[off + i];
            if (c != lower.charAt(i) && fold(c) != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** ASCII lower case of a letter; anything else as it is. */
    static int fold(int c) {
        return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
    }
}
