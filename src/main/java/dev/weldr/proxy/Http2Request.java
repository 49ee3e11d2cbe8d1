package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An HTTP/2 stream's request headers as the exchange reads them (RFC 9113 §8.3). Checked once,
 * when the HEADERS frame arrives: what RFC 9113 §8.1.1 calls malformed is refused before anything
 * is routed, so no backend ever sees it. Names are lower case (Netty's decoder refuses others);
 * a value with NUL, CR or LF is refused, since it would split a line once written as HTTP/1.1.
 *
 * <p>The host and the path that routes match lie in one small byte array, {@link #bytes()}: the
 * path first, then the authority.
 */
final class Http2Request implements Request {

    private static final AsciiString COOKIE = AsciiString.cached("cookie");
    private static final AsciiString HOST = AsciiString.cached("host");
    private static final AsciiString TE = AsciiString.cached("te");
    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
    private static final AsciiString EXPECT = AsciiString.cached("expect");
    private static final AsciiString VIA = AsciiString.cached("via");
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");

    final Http2Headers headers;
    private final String method;
    private final int methodKind;
    private final boolean hasBody;
    private final long contentLength;
    private final boolean expectContinue;
    private final byte[] b;
    private final int targetEnd;
    private final int hostStart;
    private final int routeHostStart;
    private final int routeHostEnd;

    /** A request the stream refuses: RFC 9113 §8.1.1's malformed request, a stream error PROTOCOL_ERROR. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    private Http2Request(Http2Headers headers, String method, boolean hasBody, long contentLength, boolean expectContinue,
                         byte[] b, int targetEnd, int hostStart, int routeHostStart, int routeHostEnd) {
        this.headers = headers;
        this.method = method;
        this.methodKind = method.equals("GET") ? HttpHead.GET : method.equals("HEAD") ? HttpHead.HEAD : HttpHead.OTHER;
        this.hasBody = hasBody;
        this.contentLength = contentLength;
        this.expectContinue = expectContinue;
        this.b = b;
        this.targetEnd = targetEnd;
        this.hostStart = hostStart;
        this.routeHostStart = routeHostStart;
        this.routeHostEnd = routeHostEnd;
    }

    /** The request of these headers; {@code hasBody}: its HEADERS frame did not end the stream. */
    static Http2Request of(Http2Headers headers, boolean hasBody) throws Malformed {
        CharSequence method = null;
        CharSequence scheme = null;
        CharSequence path = null;
        CharSequence authority = null;
        CharSequence host = null;
        long contentLength = -1;
        boolean expectContinue = false;
        for (Map.Entry<CharSequence, CharSequence> e : headers) {
            CharSequence name = e.getKey();
            CharSequence value = e.getValue();
            if (name.length() > 0 && name.charAt(0) == ':') {
                if (Http2Headers.PseudoHeaderName.METHOD.value().contentEquals(name)) {
                    method = once(method, value, name);
                } else if (Http2Headers.PseudoHeaderName.SCHEME.value().contentEquals(name)) {
                    scheme = once(scheme, value, name);
                } else if (Http2Headers.PseudoHeaderName.PATH.value().contentEquals(name)) {
                    path = once(path, value, name);
                } else if (Http2Headers.PseudoHeaderName.AUTHORITY.value().contentEquals(name)) {
                    authority = once(authority, value, name);
                } else {
                    // :status, :protocol (no extended CONNECT is offered) or unknown.
                    throw new Malformed("pseudo-header " + name + " in a request");
                }
                continue;
            }
            checkName(name);
            checkValue(name, value);
            if (HOST.contentEqualsIgnoreCase(name)) {
                host = once(host, value, name);
            } else if (CONTENT_LENGTH.contentEqualsIgnoreCase(name)) {
                contentLength = length(contentLength, value);
            } else if (TE.contentEqualsIgnoreCase(name)) {
                if (!AsciiString.contentEqualsIgnoreCase(value, "trailers")) {
                    throw new Malformed("TE other than trailers");
                }
            } else if (EXPECT.contentEqualsIgnoreCase(name)) {
                expectContinue = AsciiString.contentEqualsIgnoreCase(value, "100-continue");
            } else if (HopByHop.connectionSpecific(name)) {
                throw new Malformed("connection-specific header " + name);
            }
        }
        if (method == null) {
            throw new Malformed("no :method");
        }
        String m = method.toString();
        if (m.isEmpty() || !token(m)) {
            throw new Malformed("a :method that is not a token");
        }
        if (m.equals("CONNECT")) {
            // No tunnels through weldr: the HTTP/1.1 engine refuses CONNECT too. RFC 9113 §8.5's
            // form (no :scheme, no :path) is well formed, so it gets an answer, not a reset.
            if (scheme != null || path != null || authority == null) {
                throw new Malformed("CONNECT with :scheme or :path, or without :authority");
            }
            return new Http2Request(headers, m, hasBody, contentLength, false, "/".getBytes(StandardCharsets.ISO_8859_1), 1, 1, 1, 1);
        }
        if (scheme == null || path == null || path.length() == 0) {
            throw new Malformed("no :scheme or :path, or an empty :path");
        }
        checkValue(":path", path);
        if (path.charAt(0) != '/' && !(path.length() == 1 && path.charAt(0) == '*' && m.equals("OPTIONS"))) {
            throw new Malformed(":path neither an absolute path nor * of OPTIONS");
        }
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) <= ' ' || path.charAt(i) >= 0x7f) {
                throw new Malformed("a space or control character in :path");
            }
        }
        CharSequence named = authority != null ? authority : host;
        if (authority != null) {
            checkValue(":authority", authority);
        }
        byte[] b = new byte[path.length() + (named == null ? 0 : named.length())];
        int k = 0;
        for (int i = 0; i < path.length(); i++) {
            b[k++] = (byte) path.charAt(i);
        }
        int hostStart = named == null ? -1 : k;
        int routeStart = k;
        int routeEnd = k;
        if (named != null) {
            for (int i = 0; i < named.length(); i++) {
                char c = named.charAt(i);
                if (c <= ' ' || c >= 0x7f || c == '@' || c == '/') {
                    // RFC 9113 §8.3.1: no userinfo in :authority; no whitespace or controls, as HttpHead requires of Host.
                    throw new Malformed("a host with whitespace, a control character or userinfo");
                }
                b[k++] = (byte) c;
            }
            boolean bracketed = named.length() > 0 && named.charAt(0) == '[';
            routeStart = bracketed ? hostStart + 1 : hostStart;
            routeEnd = k;
            for (int i = hostStart; i < k; i++) {
                if (bracketed ? b[i] == ']' : b[i] == ':') {
                    routeEnd = i;
                    break;
                }
            }
        }
        return new Http2Request(headers, m, hasBody, contentLength, expectContinue, b, path.length(), hostStart, routeStart, routeEnd);
    }

    private static CharSequence once(CharSequence seen, CharSequence value, CharSequence name) throws Malformed {
        if (seen != null) {
            throw new Malformed("two " + name);
        }
        return value;
    }

    private static long length(long seen, CharSequence value) throws Malformed {
        long n = 0;
        if (value.length() == 0 || value.length() > 18) {
            throw new Malformed("a content-length that is not a number");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                throw new Malformed("a content-length that is not a number");
            }
            n = n * 10 + (c - '0');
        }
        if (seen >= 0 && seen != n) {
            throw new Malformed("two different content-lengths");
        }
        return n;
    }

    /** A regular field (a header or a trailer) RFC 9113 §8.2 allows: a lower-case token name, a value without NUL, CR or LF. */
    static void checkField(CharSequence name, CharSequence value) throws Malformed {
        checkName(name);
        checkValue(name, value);
    }

    private static void checkName(CharSequence name) throws Malformed {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 0x80 || !HttpHead.isToken((byte) c) || c >= 'A' && c <= 'Z') {
                throw new Malformed("a header name that is not a lower-case token");
            }
        }
        if (name.length() == 0) {
            throw new Malformed("an empty header name");
        }
    }

    /** RFC 9113 §8.2.1: no NUL, CR or LF, and no space or tab at either end. */
    private static void checkValue(CharSequence name, CharSequence value) throws Malformed {
        int n = value.length();
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c == 0 || c == '\r' || c == '\n') {
                throw new Malformed("NUL, CR or LF in the value of " + name);
            }
        }
        if (n > 0 && (edge(value.charAt(0)) || edge(value.charAt(n - 1)))) {
            throw new Malformed("white space around the value of " + name);
        }
    }

    private static boolean edge(char c) {
        return c == ' ' || c == '\t';
    }

    private static boolean token(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x80 || !HttpHead.isToken((byte) c)) {
                return false;
            }
        }
        return true;
    }

    boolean isConnect() {
        return method.equals("CONNECT");
    }

    // ---- Request ------------------------------------------------------------------------------

    @Override
    public int methodKind() {
        return methodKind;
    }

    @Override
    public String methodName() {
        return method;
    }

    @Override
    public boolean hasBody() {
        return hasBody;
    }

    @Override
    public long declaredLength() {
        return hasBody ? contentLength : 0;
    }

    @Override
    public boolean expectsContinue() {
        return expectContinue;
    }

    @Override
    public boolean keepAlive() {
        return true;
    }

    @Override
    public boolean http10() {
        return false;
    }

    @Override
    public boolean wantsWebSocket() {
        return false;
    }

    @Override
    public HttpHead.BadHead refusal() {
        if (isConnect()) {
            return new HttpHead.BadHead(405, "CONNECT is not served");
        }
        if (hostStart < 0) {
            // RFC 9113 §8.3.1: a proxy needs the authority (or a Host) to send the request on.
            return new HttpHead.BadHead(400, "neither :authority nor Host");
        }
        return null;
    }

    @Override
    public String get(String name) {
        CharSequence v = headers.get(AsciiString.of(name).toLowerCase());
        return v == null ? null : v.toString();
    }

    @Override
    public List<String> getAll(String name) {
        List<CharSequence> all = headers.getAll(AsciiString.of(name).toLowerCase());
        List<String> out = new ArrayList<>(all.size());
        for (CharSequence v : all) {
            out.add(v.toString());
        }
        return out;
    }

    @Override
    public byte[] bytes() {
        return b;
    }

    @Override
    public int hostStart() {
        return hostStart;
    }

    @Override
    public int hostEnd() {
        return hostStart < 0 ? -1 : b.length;
    }

    @Override
    public int routeHostStart() {
        return routeHostStart;
    }

    @Override
    public int routeHostEnd() {
        return routeHostEnd;
    }

    @Override
    public int targetStart() {
        return 0;
    }

    @Override
    public int targetEnd() {
        return targetEnd;
    }

    @Override
    public boolean targetNeedsSlash() {
        return false;
    }

    @Override
    public String requestLine() {
        return method + " " + new String(b, 0, targetEnd, StandardCharsets.ISO_8859_1) + " HTTP/2.0";
    }

    @Override
    public String protocol() {
        return "HTTP/2.0";
    }

    // ---- to an HTTP/1.1 backend (RFC 9113 §8.3.1 and RFC 9110 §7.6) -------------------------------

    @Override
    public int http1Bound(String clientAddress) {
        int n = 256 + clientAddress.length() + 2 * b.length + method.length();
        for (Map.Entry<CharSequence, CharSequence> e : headers) {
            n += e.getKey().length() + e.getValue().length() + 4;
        }
        return n;
    }

    @Override
    public void writeHttp1(ByteBuf out, String clientAddress, boolean upgrade, boolean secure) {
        ascii(out, method);
        out.writeByte(' ').writeBytes(b, 0, targetEnd);
        ascii(out, " HTTP/1.1\r\nhost: ");
        out.writeBytes(b, hostStart, b.length - hostStart);
        crlf(out);
        boolean cookies = false;
        CharSequence via = null;
        CharSequence forwardedFor = null;
        for (Map.Entry<CharSequence, CharSequence> e : headers) {
            CharSequence name = e.getKey();
            if (name.length() == 0 || name.charAt(0) == ':') {
                continue;
            }
            CharSequence value = e.getValue();
            if (COOKIE.contentEquals(name)) {
                cookies = true;
            } else if (VIA.contentEquals(name)) {
                via = via == null ? value : via + ", " + value;
            } else if (X_FORWARDED_FOR.contentEquals(name)) {
                forwardedFor = forwardedFor == null ? value : forwardedFor + ", " + value;
            } else if (!HOST.contentEquals(name) && !TE.contentEquals(name) && !X_FORWARDED_PROTO.contentEquals(name)
                    && !X_FORWARDED_HOST.contentEquals(name)
                    && !(EXPECT.contentEquals(name) && AsciiString.contentEqualsIgnoreCase(value, "100-continue"))) {
                line(out, name, value);
            }
        }
        if (cookies) {
            // RFC 9113 §8.2.3: the crumbs of a split cookie are joined with "; " for HTTP/1.1.
            ascii(out, "cookie: ");
            boolean first = true;
            for (CharSequence crumb : headers.getAll(COOKIE)) {
                if (!first) {
                    ascii(out, "; ");
                }
                first = false;
                ascii(out, crumb);
            }
            crlf(out);
        }
        if (hasBody && contentLength < 0) {
            ascii(out, "transfer-encoding: chunked\r\n");
        }
        ascii(out, "via: ");
        if (via != null) {
            ascii(out, via);
            ascii(out, ", ");
        }
        ascii(out, "2.0 weldr\r\nx-forwarded-for: ");
        if (forwardedFor != null) {
            ascii(out, forwardedFor);
            ascii(out, ", ");
        }
        ascii(out, clientAddress);
        ascii(out, secure ? "\r\nx-forwarded-proto: https\r\nx-forwarded-host: " : "\r\nx-forwarded-proto: http\r\nx-forwarded-host: ");
        out.writeBytes(b, hostStart, b.length - hostStart);
        ascii(out, "\r\n\r\n");
    }

    @Override
    public boolean chunkedToHttp1() {
        return hasBody && contentLength < 0;
    }

    @Override
    public boolean headWaitsForBody() {
        return false;
    }

    private static void line(ByteBuf out, CharSequence name, CharSequence value) {
        ascii(out, name);
        out.writeByte(':').writeByte(' ');
        ascii(out, value);
        crlf(out);
    }

    private static void ascii(ByteBuf out, CharSequence s) {
        if (s instanceof AsciiString a) {
            out.writeBytes(a.array(), a.arrayOffset(), a.length());
        } else {
            out.writeCharSequence(s, StandardCharsets.ISO_8859_1);
        }
    }

    private static void crlf(ByteBuf out) {
        out.writeByte('\r').writeByte('\n');
    }
}
