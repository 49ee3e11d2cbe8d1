package dev.weldr.proxy;

import dev.weldr.pool.HostName;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A route's redirect of plain HTTP to HTTPS: which requests it spares, and which hosts it will
 * write into a Location. The host comes from the client, so only a host name or an IP address
 * goes into the URL: anything else (a percent-encoding, {@code @}, a path) could make the
 * redirect point somewhere else than the host the client asked for.
 */
final class HttpsRedirect {

    /**
     * A request body of at most this many bytes (with a Content-Length) is read and dropped after
     * the 308, and the connection goes on; a longer or chunked one closes the connection instead
     * of being read for nothing (a form post fits; an upload is not waited for).
     */
    static final long MAX_DISCARDED = 64 * 1024;

    private static final byte[] ACME_CHALLENGE = "/.well-known/acme-challenge/".getBytes(StandardCharsets.US_ASCII);

    private HttpsRedirect() {
    }

    /**
     * Whether the route's redirect applies to this request. An ACME HTTP-01 challenge
     * ({@code /.well-known/acme-challenge/}) is spared, as Caddy and Traefik spare it: a CA fetches
     * it over plain HTTP, from whatever answers it (a backend today, weldr itself once it does ACME).
     */
    static boolean applies(Request h) {
        byte[] b = h.bytes();
        int start = h.targetStart();
        int length = h.targetEnd() - start;
        if (length == 1 && b[start] == '*') {
            // OPTIONS * asks about the server, not a resource: there is no URL to redirect it to.
            return false;
        }
        return h.targetNeedsSlash() || length < ACME_CHALLENGE.length
                || !Arrays.equals(b, start, start + ACME_CHALLENGE.length, ACME_CHALLENGE, 0, ACME_CHALLENGE.length);
    }

    /**
     * The token of an ACME HTTP-01 challenge request ({@code GET /.well-known/acme-challenge/{token}}),
     * or null for any other request. A token is Base64url (RFC 8555 §8.3); anything else in its
     * place is no token weldr could have, and goes its usual way.
     */
    static String acmeToken(Request h) {
        int method = h.methodKind();
        if (method != HttpHead.GET && method != HttpHead.HEAD || h.targetNeedsSlash()) {
            return null;
        }
        byte[] b = h.bytes();
        int start = h.targetStart() + ACME_CHALLENGE.length;
        int end = h.targetEnd();
        if (end <= start || !Arrays.equals(b, h.targetStart(), start, ACME_CHALLENGE, 0, ACME_CHALLENGE.length)) {
            return null;
        }
        for (int i = start; i < end; i++) {
            byte c = b[i];
            if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                return null;
            }
        }
        return new String(b, start, end - start, StandardCharsets.US_ASCII);
    }

    /**
     * Where the host to redirect to ends in the request's bytes (from {@code hostStart}): before
     * the port, after an IPv6 address's closing bracket; -1 when the request has no host or one
     * that is neither a host name (a route's rule: {@link HostName}) nor an IP address, optionally
     * with a port of digits.
     */
    static int hostEnd(Request h) {
        byte[] b = h.bytes();
        int s = h.hostStart();
        int e = h.hostEnd();
        if (s < 0 || s == e) {
            return -1;
        }
        int i = s;
        if (b[s] == '[') {
            i++;
            while (i < e && (Character.digit(b[i], 16) >= 0 || b[i] == ':' || b[i] == '.')) {
                i++;
            }
            if (i == s + 1 || i == e || b[i] != ']') {
                return -1;
            }
            i++;
        } else {
            while (i < e && HostName.nameChar(b[i])) {
                i++;
            }
            if (i == s || i - s > HostName.MAX) {
                return -1;
            }
        }
        int end = i;
        if (i < e) {
            if (b[i] != ':' || e - i - 1 > 5) {
                return -1;
            }
            for (i++; i < e; i++) {
                if (b[i] < '0' || b[i] > '9') {
                    return -1;
                }
            }
        }
        return end;
    }

    /**
     * {@code https://}, the request's host (its bytes up to {@code hostEnd}, a port left out),
     * {@code :port} unless 443, and the request's path and query as they came.
     */
    static String location(Request h, int hostEnd, int port) {
        byte[] b = h.bytes();
        StringBuilder sb = new StringBuilder(32 + hostEnd - h.hostStart() + h.targetEnd() - h.targetStart()).append("https://");
        latin1(sb, b, h.hostStart(), hostEnd);
        if (port != 443) {
            sb.append(':').append(port);
        }
        if (h.targetNeedsSlash()) {
            sb.append('/');
        }
        latin1(sb, b, h.targetStart(), h.targetEnd());
        return sb.toString();
    }

    private static void latin1(StringBuilder sb, byte[] b, int s, int e) {
        for (int i = s; i < e; i++) {
            sb.append((char) (b[i] & 0xff));
        }
    }
}
