package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A request or response head as it came, parsed once where it lies: the bytes are kept and every
 * header line is known by its offsets and its {@link HopByHop kind}, so that forwarding copies
 * the lines it keeps instead of decoding every header into strings and encoding them again
 * (HAProxy's way). Only what the proxy itself needs becomes a string, when it is asked for.
 *
 * <p>Requests are checked strictly (RFC 9112): a token method, a target without spaces or
 * controls, HTTP/1.0 or 1.1, header names that are tokens with no space before the colon, values
 * without controls, no obsolete line folding, one Content-Length, never both Content-Length and
 * Transfer-Encoding, no Transfer-Encoding from HTTP/1.0, a host without whitespace or controls,
 * no CONNECT, and {@code *} only for OPTIONS. Responses come from the pool's own servers: their
 * framing is checked as strictly (a transfer coding other than chunked is refused, as nginx
 * does), their header bytes are not.
 */
final class HttpHead implements Request {

    /**
     * At most how many header names one head's Connection headers may list (besides close,
     * keep-alive and upgrade); more is refused (400, or 502 from a backend). Envoy's cap on
     * nominated headers; nginx and HAProxy remove none of them, so they need none. It keeps
     * marking the named lines (names × lines) bounded by a small multiple of the head's size.
     */
    static final int MAX_CONNECTION_NAMES = 10;

    static final int HTTP_1_0 = 0;
    static final int HTTP_1_1 = 1;

    final byte[] b;
    final int length;
    final boolean request;
    int version;

    // Request line: method and target by offsets.
    int methodStart;
    int methodEnd;
    int targetStart;
    int targetEnd;
    /**
     * The authority of an absolute-form target ({@code GET http://a.test/x}), which stands for the
     * Host header (RFC 9112 §3.2.2); -1 for the usual origin form. The target then starts at its
     * path, possibly empty ({@code http://a.test} or {@code http://a.test?q}), and goes out as
     * {@code /}, {@code /x}, {@code /?q}: the origin form a backend expects.
     */
    int authorityStart = -1;
    int authorityEnd = -1;
    /**
     * Where the request's host lies: the absolute-form target's authority, which stands for Host,
     * or else the Host header's value; -1 when there is neither. What routes match and what
     * X-Forwarded-Host says.
     */
    int hostStart = -1;
    int hostEnd = -1;
    /**
     * The host as routes match it: without its port, an IPv6 address without its brackets
     * ({@code hostStart} to before the port's colon); both equal when there is no host.
     */
    int routeHostStart;
    int routeHostEnd;
    /** GET, HEAD or anything else (for the few decisions that depend on the method). */
    int method;
    static final int OTHER = 0;
    static final int GET = 1;
    static final int HEAD = 2;

    // Status line.
    int status;
    /** Offset of what follows the version in the status line (" 200 OK"), up to its line end. */
    int statusStart;
    int statusEnd;

    /** Offset after the start line (its line break included). */
    int firstHeader;
    /** Header count, and four offsets each: line start, name end, value start, value end. */
    int count;
    int[] at = new int[4 * 16];
    byte[] kinds = new byte[16];

    // What the headers say, gathered while parsing.
    /** The body's length from Content-Length; -1 when none. */
    long contentLength = -1;
    boolean hasTransferEncoding;
    /** Transfer-Encoding ends with chunked: the body is chunked. */
    boolean chunked;
    /** Transfer-Encoding is exactly chunked (the only coding weldr takes on requests). */
    boolean onlyChunked;
    boolean connectionClose;
    boolean connectionKeepAlive;
    boolean connectionUpgrade;
    /** Where the other header names the Connection headers list lie (start, end); null when none. */
    private int[] connectionNamed;
    private int connectionNames;
    /** Index of the first Host header; -1 when none. */
    int host = -1;
    boolean expectContinue;
    boolean upgradeWebSocket;
    boolean dated;

    private HttpHead(byte[] b, int length, boolean request) {
        this.b = b;
        this.length = length;
        this.request = request;
    }

    /** A client's head, refused with a {@link BadHead} (400, 505) when it cannot be forwarded safely. */
    static HttpHead request(byte[] b, int length) {
        HttpHead h = new HttpHead(b, length, true);
        h.parseRequestLine();
        h.parseHeaders(true);
        h.checkRequestFraming();
        if (h.authorityStart >= 0) {
            h.hostStart = h.authorityStart;
            h.hostEnd = h.authorityEnd;
        } else if (h.host >= 0) {
            h.hostStart = h.at[4 * h.host + 2];
            h.hostEnd = h.at[4 * h.host + 3];
        }
        h.checkHost();
        h.markNamedByConnection();
        return h;
    }

    /** A backend's head, refused with a {@link BadHead} when its framing cannot be trusted. */
    static HttpHead response(byte[] b, int length) {
        HttpHead h = new HttpHead(b, length, false);
        h.parseStatusLine();
        h.parseHeaders(false);
        if (h.hasTransferEncoding) {
            if (!h.onlyChunked) {
                // weldr would forward a body it cannot decode under a framing it rewrites
                // (chunked only): a coding like gzip would be lost on the way. nginx's 502 too.
                throw new BadHead(502, "transfer coding other than chunked");
            }
            // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length.
            h.contentLength = -1;
        }
        h.markNamedByConnection();
        return h;
    }

    // ---- the start line -----------------------------------------------------------------------

    /** The request line (the empty lines before it were skipped by {@link HeadScanner}). */
    private void parseRequestLine() {
        int i = 0;
        int lineEnd = lineEnd(i);
        methodStart = i;
        while (i < lineEnd && isToken(b[i])) {
            i++;
        }
        if (i == methodStart || i >= lineEnd || b[i] != ' ') {
            throw new BadHead(400, "malformed request line");
        }
        methodEnd = i;
        method = methodIs("GET") ? GET : methodIs("HEAD") ? HEAD : OTHER;
        if (method == OTHER && methodIs("CONNECT")) {
            // A tunnel to anywhere is not a reverse proxy's to open; nginx answers 405 too.
            throw new BadHead(405, "CONNECT is not served");
        }
        targetStart = ++i;
        while (i < lineEnd && b[i] > ' ' && b[i] != 0x7f) {
            i++;
        }
        if (i == targetStart || i >= lineEnd || b[i] != ' ') {
            throw new BadHead(400, "malformed request line");
        }
        targetEnd = i++;
        if (b[targetStart] == '*' && (targetEnd - targetStart != 1 || !methodIs("OPTIONS"))) {
            // RFC 9112 §3.2.4: the asterisk form is for OPTIONS only.
            throw new BadHead(400, "the target * is for OPTIONS only");
        }
        if (b[targetStart] != '/') {
            absoluteForm();
        }
        version = parseVersion(i, lineEnd, true);
        if (version < 0 || i + 8 != contentEnd(lineEnd)) {
            throw new BadHead(version == -2 ? 505 : 400, version == -2 ? "HTTP version not supported" : "malformed request line");
        }
        firstHeader = lineEnd + 1;
    }

    /**
     * {@code http://authority[path][?query]} (any case in the scheme), read into the authority and
     * the rest; an authority with user information or none at all is refused. Any other target
     * that is not a path ({@code *}, {@code host:port}) goes on as it came.
     */
    private void absoluteForm() {
        int s = targetStart;
        int afterScheme;
        if (startsWithIgnoreCase(s, "http://")) {
            afterScheme = s + 7;
        } else if (startsWithIgnoreCase(s, "https://")) {
            afterScheme = s + 8;
        } else {
            return;
        }
        int e = afterScheme;
        while (e < targetEnd && b[e] != '/' && b[e] != '?' && b[e] != '#') {
            if (b[e] == '@') {
                throw new BadHead(400, "user information in the request target");
            }
            e++;
        }
        if (e == afterScheme) {
            throw new BadHead(400, "no host in the request target");
        }
        authorityStart = afterScheme;
        authorityEnd = e;
        targetStart = e;
    }

    private boolean startsWithIgnoreCase(int s, String prefix) {
        return targetEnd - s >= prefix.length() && equalsIgnoreCase(s, s + prefix.length(), prefix);
    }

    private void parseStatusLine() {
        int lineEnd = lineEnd(0);
        version = parseVersion(0, lineEnd, false);
        int i = 8;
        if (version < 0 || i + 4 > contentEnd(lineEnd) || b[i] != ' ' || !isDigit(b[i + 1]) || !isDigit(b[i + 2]) || !isDigit(b[i + 3])
                || i + 4 < contentEnd(lineEnd) && b[i + 4] != ' ') {
            throw new BadHead(502, "malformed status line");
        }
        status = (b[i + 1] - '0') * 100 + (b[i + 2] - '0') * 10 + (b[i + 3] - '0');
        statusStart = i;
        statusEnd = contentEnd(lineEnd);
        firstHeader = lineEnd + 1;
    }

    /** HTTP/1.0 or HTTP/1.1 at {@code i}; -2 for another major version, -1 when it is no version at all. */
    private int parseVersion(int i, int lineEnd, boolean request) {
        if (i + 8 > lineEnd || b[i] != 'H' || b[i + 1] != 'T' || b[i + 2] != 'T' || b[i + 3] != 'P' || b[i + 4] != '/'
                || !isDigit(b[i + 5]) || b[i + 6] != '.' || !isDigit(b[i + 7])) {
            return -1;
        }
        if (b[i + 5] != '1') {
            return request ? -2 : -1;
        }
        return b[i + 7] == '0' ? HTTP_1_0 : HTTP_1_1;
    }

    // ---- header lines -------------------------------------------------------------------------

    private void parseHeaders(boolean strict) {
        int i = firstHeader;
        while (true) {
            int lineEnd = lineEnd(i);
            int end = contentEnd(lineEnd);
            if (end == i) {
                return;
            }
            if (b[i] == ' ' || b[i] == '\t') {
                // RFC 9112 §5.2: obsolete line folding is refused.
                throw new BadHead(strict ? 400 : 502, "obsolete line folding");
            }
            int colon = i;
            while (colon < end && b[colon] != ':') {
                if (strict && !isToken(b[colon])) {
                    throw new BadHead(400, "invalid header name");
                }
                colon++;
            }
            if (colon == i || colon == end) {
                throw new BadHead(strict ? 400 : 502, "malformed header line");
            }
            if (!strict && (b[colon - 1] == ' ' || b[colon - 1] == '\t')) {
                throw new BadHead(502, "whitespace before a header's colon");
            }
            int vs = skipSpaces(colon + 1, end);
            int ve = trimSpaces(vs, end);
            if (strict) {
                for (int k = vs; k < ve; k++) {
                    int c = b[k] & 0xff;
                    if (c < ' ' && c != '\t' || c == 0x7f) {
                        throw new BadHead(400, "invalid character in a header value");
                    }
                }
            }
            add(i, colon, vs, ve);
            i = lineEnd + 1;
        }
    }

    private void add(int lineStart, int nameEnd, int valueStart, int valueEnd) {
        int n = count;
        if (4 * n + 4 > at.length) {
            at = java.util.Arrays.copyOf(at, at.length * 2);
            kinds = java.util.Arrays.copyOf(kinds, kinds.length * 2);
        }
        at[4 * n] = lineStart;
        at[4 * n + 1] = nameEnd;
        at[4 * n + 2] = valueStart;
        at[4 * n + 3] = valueEnd;
        int kind = HopByHop.kind(b, lineStart, nameEnd - lineStart);
        kinds[n] = (byte) kind;
        count = n + 1;
        switch (kind) {
            case HopByHop.CONTENT_LENGTH -> contentLength(valueStart, valueEnd);
            case HopByHop.TRANSFER_ENCODING -> transferEncoding(valueStart, valueEnd);
            case HopByHop.CONNECTION -> connection(valueStart, valueEnd);
            case HopByHop.HOST -> {
                if (host < 0) {
                    host = n;
                } else if (request) {
                    // RFC 9112 §3.2: more than one Host is refused.
                    throw new BadHead(400, "more than one Host header");
                }
            }
            case HopByHop.EXPECT -> expectContinue |= equalsIgnoreCase(valueStart, valueEnd, "100-continue");
            case HopByHop.UPGRADE -> upgradeWebSocket |= equalsIgnoreCase(valueStart, valueEnd, "websocket");
            case HopByHop.DATE -> dated = true;
            default -> {
            }
        }
    }

    private void contentLength(int vs, int ve) {
        // A list of equal values ("5, 5") is one length (RFC 9110 §8.6); anything else is refused.
        int i = vs;
        do {
            int start = i;
            long value = 0;
            while (i < ve && isDigit(b[i])) {
                if (value > (Long.MAX_VALUE - 9) / 10) {
                    throw bad("Content-Length too large");
                }
                value = value * 10 + (b[i] - '0');
                i++;
            }
            if (i == start) {
                throw bad("invalid Content-Length");
            }
            if (contentLength >= 0 && contentLength != value) {
                throw bad("conflicting Content-Length values");
            }
            contentLength = value;
            i = skipSpaces(i, ve);
            if (i < ve) {
                if (b[i] != ',') {
                    throw bad("invalid Content-Length");
                }
                i = skipSpaces(i + 1, ve);
            }
        } while (i < ve);
    }

    private void transferEncoding(int vs, int ve) {
        // Several lines are one list: the last coding of the last line is what frames the body.
        boolean first = !hasTransferEncoding;
        hasTransferEncoding = true;
        int lastStart = vs;
        for (int k = ve - 1; k >= vs; k--) {
            if (b[k] == ',') {
                lastStart = k + 1;
                break;
            }
        }
        lastStart = skipSpaces(lastStart, ve);
        int last = trimSpaces(lastStart, ve);
        chunked = equalsIgnoreCase(lastStart, last, "chunked");
        onlyChunked = first && chunked && lastStart == vs;
    }

    private void connection(int vs, int ve) {
        int i = vs;
        while (i <= ve) {
            int comma = i;
            while (comma < ve && b[comma] != ',') {
                comma++;
            }
            int s = skipSpaces(i, comma);
            int e = trimSpaces(s, comma);
            if (e > s) {
                if (equalsIgnoreCase(s, e, "close")) {
                    connectionClose = true;
                } else if (equalsIgnoreCase(s, e, "keep-alive")) {
                    connectionKeepAlive = true;
                } else if (equalsIgnoreCase(s, e, "upgrade")) {
                    connectionUpgrade = true;
                } else {
                    named(s, e);
                }
            }
            i = comma + 1;
        }
    }

    private void named(int s, int e) {
        if (connectionNames == MAX_CONNECTION_NAMES) {
            throw bad("Connection lists more than " + MAX_CONNECTION_NAMES + " header names");
        }
        if (connectionNamed == null) {
            connectionNamed = new int[2 * MAX_CONNECTION_NAMES];
        }
        connectionNamed[2 * connectionNames] = s;
        connectionNamed[2 * connectionNames + 1] = e;
        connectionNames++;
    }

    /**
     * The lines the Connection headers name are hop-by-hop (RFC 9110 §7.6.1): marked so, in one
     * scan of the lines once every name is known (a name may come after the line it names).
     * Host, the body's framing, Via and X-Forwarded-For of a request stay what they are.
     */
    private void markNamedByConnection() {
        if (connectionNames == 0) {
            return;
        }
        for (int i = 0; i < count; i++) {
            int kind = kinds[i];
            boolean eligible = kind == HopByHop.FORWARD || kind == HopByHop.DATE
                    || !request && (kind == HopByHop.HOST || kind == HopByHop.EXPECT || kind == HopByHop.X_FORWARDED_FOR
                    || kind == HopByHop.X_FORWARDED_PROTO || kind == HopByHop.X_FORWARDED_HOST);
            if (eligible && namedByConnection(i)) {
                kinds[i] = HopByHop.HOP;
                if (kind == HopByHop.DATE) {
                    dated = false;
                }
            }
        }
    }

    private boolean namedByConnection(int i) {
        int s = at[4 * i];
        int len = at[4 * i + 1] - s;
        for (int n = 0; n < connectionNames; n++) {
            int ns = connectionNamed[2 * n];
            if (connectionNamed[2 * n + 1] - ns == len && sameIgnoreCase(s, ns, len)) {
                return true;
            }
        }
        return false;
    }

    private boolean sameIgnoreCase(int a, int c, int len) {
        for (int k = 0; k < len; k++) {
            if (HopByHop.fold(b[a + k]) != HopByHop.fold(b[c + k])) {
                return false;
            }
        }
        return true;
    }

    private void checkRequestFraming() {
        if (hasTransferEncoding && version == HTTP_1_0) {
            // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
            throw new BadHead(400, "Transfer-Encoding in an HTTP/1.0 request");
        }
        if (hasTransferEncoding && contentLength >= 0) {
            // RFC 9112 §6.1: a sign of request smuggling; refused, as nginx does.
            throw new BadHead(400, "both Content-Length and Transfer-Encoding");
        }
    }

    /**
     * The request's host has no whitespace or control character, as it came or percent-encoded
     * (nginx refuses them in Host since 1.21.1): a backend or a log must not read it as two
     * things. Finds where the part that routes match lies, on the way.
     */
    private void checkHost() {
        int s = hostStart;
        int e = hostEnd;
        if (s < 0) {
            routeHostStart = routeHostEnd = 0;
            return;
        }
        int routeEnd = -1;
        for (int k = s; k < e; k++) {
            int c = b[k] & 0xff;
            if (c <= ' ' || c == 0x7f) {
                throw new BadHead(400, "whitespace or a control character in the host");
            }
            if (c == '%') {
                int hi = k + 2 < e ? Character.digit(b[k + 1], 16) : -1;
                int lo = hi >= 0 ? Character.digit(b[k + 2], 16) : -1;
                int decoded = hi << 4 | lo;
                if (lo < 0 || decoded <= ' ' || decoded == 0x7f) {
                    throw new BadHead(400, "a malformed or forbidden percent-encoding in the host");
                }
            } else if (c == ':' && routeEnd < 0 && b[s] != '[') {
                routeEnd = k;
            } else if (c == ']' && routeEnd < 0 && b[s] == '[') {
                routeEnd = k;
            }
        }
        boolean bracketed = e > s && b[s] == '[';
        routeHostStart = bracketed ? s + 1 : s;
        routeHostEnd = routeEnd >= 0 ? routeEnd : e;
    }

    private BadHead bad(String message) {
        return new BadHead(request ? 400 : 502, message);
    }

    // ---- what the proxy asks ------------------------------------------------------------------

    /** The request's body is framed by chunks or by a length above 0. */
    boolean requestHasBody() {
        return chunked || contentLength > 0;
    }

    /** The client's connection may carry another request after this one (RFC 9112 §9.3). */
    @Override
    public boolean keepAlive() {
        return version == HTTP_1_1 ? !connectionClose : connectionKeepAlive && !connectionClose;
    }

    // ---- as a Request ---------------------------------------------------------------------------

    @Override
    public int methodKind() {
        return method;
    }

    @Override
    public boolean hasBody() {
        return requestHasBody();
    }

    @Override
    public long declaredLength() {
        return chunked ? -1 : Math.max(0, contentLength);
    }

    @Override
    public boolean expectsContinue() {
        return expectContinue;
    }

    @Override
    public boolean http10() {
        return version == HTTP_1_0;
    }

    @Override
    public boolean wantsWebSocket() {
        return method == GET && upgradeWebSocket && connectionUpgrade;
    }

    @Override
    public BadHead refusal() {
        if (hasTransferEncoding && !onlyChunked) {
            // RFC 9112 §6.1: a transfer coding the proxy does not understand. Reading on would let
            // the body be taken for the next request, so the connection is closed after the answer.
            return new BadHead(501, "transfer coding " + transferCodings());
        }
        if (host < 0 && version != HTTP_1_0) {
            // RFC 9112 §3.2: an HTTP/1.1 request without Host is refused.
            return new BadHead(400, "no Host header");
        }
        return null;
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
        return hostEnd;
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
        return targetStart;
    }

    @Override
    public int targetEnd() {
        return targetEnd;
    }

    @Override
    public String protocol() {
        return version == HTTP_1_0 ? "HTTP/1.0" : "HTTP/1.1";
    }

    @Override
    public int http1Bound(String clientAddress) {
        return Heads.requestBound(this, clientAddress);
    }

    @Override
    public void writeHttp1(ByteBuf out, String clientAddress, boolean upgrade, boolean secure) {
        Heads.request(out, this, clientAddress, upgrade, secure);
    }

    @Override
    public boolean chunkedToHttp1() {
        return chunked;
    }

    @Override
    public boolean headWaitsForBody() {
        return chunked;
    }

    @Override
    public String methodName() {
        return new String(b, methodStart, methodEnd - methodStart, StandardCharsets.ISO_8859_1);
    }

    /** The request line as it came, without its line break (for the access log). */
    @Override
    public String requestLine() {
        return new String(b, methodStart, targetEnd + 9 - methodStart, StandardCharsets.ISO_8859_1);
    }

    /** The target as it goes to a backend (origin form). */
    String target() {
        String t = new String(b, targetStart, targetEnd - targetStart, StandardCharsets.ISO_8859_1);
        return targetNeedsSlash() ? "/" + t : t;
    }

    /** The target as it goes to a backend: an absolute form's path gets its {@code /} when it had none. */
    @Override
    public boolean targetNeedsSlash() {
        return authorityStart >= 0 && (targetStart == targetEnd || b[targetStart] != '/');
    }

    /** The value of header {@code i}. */
    String value(int i) {
        return new String(b, at[4 * i + 2], at[4 * i + 3] - at[4 * i + 2], StandardCharsets.ISO_8859_1);
    }

    /** The first value of a header, or null. */
    @Override
    public String get(String name) {
        for (int i = 0; i < count; i++) {
            if (nameIs(i, name)) {
                return value(i);
            }
        }
        return null;
    }

    /** Every value of a header, in order. */
    @Override
    public List<String> getAll(String name) {
        List<String> all = new ArrayList<>(2);
        for (int i = 0; i < count; i++) {
            if (nameIs(i, name)) {
                all.add(value(i));
            }
        }
        return all;
    }

    boolean nameIs(int i, String name) {
        int s = at[4 * i];
        return at[4 * i + 1] - s == name.length() && equalsIgnoreCase(s, s + name.length(), name);
    }

    /** The transfer codings as the client listed them. */
    String transferCodings() {
        return values(HopByHop.TRANSFER_ENCODING);
    }

    private String values(int kind) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < count; i++) {
            if (kinds[i] == kind) {
                if (sb.length() > 0) {
                    sb.append(", ");
                }
                sb.append(value(i));
            }
        }
        return sb.toString();
    }

    // ---- bytes --------------------------------------------------------------------------------

    private boolean methodIs(String m) {
        int s = methodStart;
        if (methodEnd - s != m.length()) {
            return false;
        }
        for (int k = 0; k < m.length(); k++) {
            if (b[s + k] != m.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** The index of the line feed ending the line at {@code i} (the head always ends with one). */
    private int lineEnd(int i) {
        while (i < length && b[i] != '\n') {
            i++;
        }
        if (i >= length) {
            throw new BadHead(request ? 400 : 502, "truncated head");
        }
        return i;
    }

    /** The end of a line's content: before its CR LF, or its bare LF. */
    private int contentEnd(int lf) {
        return lf > 0 && b[lf - 1] == '\r' ? lf - 1 : lf;
    }

    /** The first index from {@code i} that is not a space or tab, at most {@code end}. */
    private int skipSpaces(int i, int end) {
        while (i < end && (b[i] == ' ' || b[i] == '\t')) {
            i++;
        }
        return i;
    }

    /** {@code end} moved back over spaces and tabs, at least to {@code start}. */
    private int trimSpaces(int start, int end) {
        while (end > start && (b[end - 1] == ' ' || b[end - 1] == '\t')) {
            end--;
        }
        return end;
    }

    /** ASCII case-insensitive equality of bytes {@code s} to {@code e} and a name. */
    boolean equalsIgnoreCase(int s, int e, String name) {
        if (e - s != name.length()) {
            return false;
        }
        for (int k = 0; k < name.length(); k++) {
            if (HopByHop.fold(b[s + k]) != HopByHop.fold(name.charAt(k))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    /** RFC 9110 §5.6.2 tchar. */
    static boolean isToken(byte c) {
        return c > 0x20 && c < 0x7f && TOKEN[c];
    }

    private static final boolean[] TOKEN = new boolean[128];

    static {
        for (int c = 0x21; c < 0x7f; c++) {
            TOKEN[c] = "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
        }
    }

    /** A head weldr cannot take: the status to answer (400, 414, 431, 505; 502 for a backend's) and why. */
    static final class BadHead extends RuntimeException {
        final int status;

        BadHead(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }
}
