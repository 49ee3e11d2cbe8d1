package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The header blocks weldr sends on HTTP/2 streams (RFC 9113 §8.2): a backend's HTTP/1.1 head made
 * into a response's headers (names lower case, the hop-by-hop and connection-specific lines left
 * out, Via and Date as {@link Heads} does for HTTP/1.1), weldr's own answers, and trailers both ways.
 */
final class Http2Heads {

    private static final AsciiString VIA = AsciiString.cached("via");
    private static final AsciiString DATE = AsciiString.cached("date");
    private static final AsciiString STRICT_TRANSPORT_SECURITY = AsciiString.cached("strict-transport-security");
    private static final AsciiString VIA_VALUE = AsciiString.cached(Heads.VIA);

    private Http2Heads() {
    }

    /** The headers of a backend's HTTP/1.1 response; {@code hsts}: the route's line, which replaces the backend's. */
    static Http2Headers response(HttpHead h, byte[] hsts, HttpDate date) {
        Http2Headers out = new DefaultHttp2Headers(false, h.count + 3);
        out.status(io.netty.handler.codec.http.HttpResponseStatus.valueOf(h.status).codeAsText());
        byte[] b = h.b;
        StringBuilder via = null;
        for (int i = 0; i < h.count; i++) {
            int kind = h.kinds[i];
            int ns = h.at[4 * i];
            int ne = h.at[4 * i + 1];
            int vs = h.at[4 * i + 2];
            int ve = h.at[4 * i + 3];
            if (kind == HopByHop.VIA) {
                via = (via == null ? new StringBuilder() : via.append(", ")).append(new String(b, vs, ve - vs, StandardCharsets.ISO_8859_1));
                continue;
            }
            if (kind == HopByHop.CONTENT_LENGTH) {
                // As for HTTP/1.1 (Heads#response): a chunked body's length was never its length, a 204 has none.
                if (h.hasTransferEncoding || h.status == 204) {
                    continue;
                }
            } else if (HopByHop.isHopByHop(kind) || kind == HopByHop.HOST) {
                continue;
            }
            AsciiString name = new AsciiString(b, ns, ne - ns, true).toLowerCase();
            if (hsts != null && STRICT_TRANSPORT_SECURITY.contentEquals(name)) {
                continue;
            }
            out.add(name, new AsciiString(b, vs, ve - vs, true));
        }
        if (hsts != null) {
            out.set(STRICT_TRANSPORT_SECURITY, hstsValue(hsts));
        }
        out.add(VIA, via == null ? VIA_VALUE : via.append(", ").append(Heads.VIA));
        if (!h.dated) {
            out.add(DATE, new AsciiString(date.bytes(), true));
        }
        return out;
    }

    /** The head of an answer of weldr's own: status, Via, Date, and the route's HSTS. */
    static Http2Headers own(int status, byte[] hsts, HttpDate date) {
        Http2Headers out = new DefaultHttp2Headers(false, 6);
        out.status(io.netty.handler.codec.http.HttpResponseStatus.valueOf(status).codeAsText());
        if (hsts != null) {
            out.set(STRICT_TRANSPORT_SECURITY, hstsValue(hsts));
        }
        out.add(VIA, VIA_VALUE);
        out.add(DATE, new AsciiString(date.bytes(), true));
        return out;
    }

    /** The value of a Strict-Transport-Security line as the routing table keeps it (name, colon, value, CR LF). */
    private static AsciiString hstsValue(byte[] line) {
        int colon = 0;
        while (line[colon] != ':') {
            colon++;
        }
        return new AsciiString(line, colon + 2, line.length - colon - 4, true);
    }

    /** A chunked body's trailer lines (checked by {@link BodyReader}, each ending CR LF) as HTTP/2 trailers. */
    static Http2Headers trailers(ByteBuf lines) {
        Http2Headers out = new DefaultHttp2Headers(false);
        int i = lines.readerIndex();
        int end = lines.writerIndex();
        while (i < end) {
            int lf = lines.indexOf(i, end, (byte) '\n');
            if (lf < 0) {
                lf = end;
            }
            int lineEnd = lf > i && lines.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            int colon = lines.indexOf(i, lineEnd, (byte) ':');
            if (colon > i) {
                AsciiString name = new AsciiString(lines.toString(i, colon - i, StandardCharsets.ISO_8859_1)).toLowerCase();
                int vs = colon + 1;
                while (vs < lineEnd && (lines.getByte(vs) == ' ' || lines.getByte(vs) == '\t')) {
                    vs++;
                }
                int ve = lineEnd;
                while (ve > vs && (lines.getByte(ve - 1) == ' ' || lines.getByte(ve - 1) == '\t')) {
                    ve--;
                }
                if (!HopByHop.connectionSpecific(name) && !HopByHop.forbiddenInTrailers(name.toString())) {
                    out.add(name, lines.toString(vs, ve - vs, StandardCharsets.ISO_8859_1));
                }
            }
            i = lf + 1;
        }
        return out;
    }

    /** A client's HTTP/2 trailers as lines for an HTTP/1.1 backend's last chunk; null when none may go on. */
    static ByteBuf trailerLines(Http2Headers trailers, ByteBufAllocator alloc) {
        ByteBuf out = null;
        for (Map.Entry<CharSequence, CharSequence> e : trailers) {
            String name = e.getKey().toString();
            if (HopByHop.forbiddenInTrailers(name) || HopByHop.connectionSpecific(name)) {
                continue;
            }
            if (out == null) {
                out = alloc.buffer(256);
            }
            out.writeCharSequence(name, StandardCharsets.ISO_8859_1);
            out.writeByte(':').writeByte(' ');
            out.writeCharSequence(e.getValue(), StandardCharsets.ISO_8859_1);
            out.writeByte('\r').writeByte('\n');
        }
        return out;
    }

    // ---- to and from HTTP/2 backends ------------------------------------------------------------

    private static final AsciiString TE = AsciiString.cached("te");
    private static final AsciiString TRAILERS = AsciiString.cached("trailers");
    private static final AsciiString HOST = AsciiString.cached("host");
    private static final AsciiString EXPECT = AsciiString.cached("expect");
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");
    private static final String VIA_HTTP2 = "2.0 weldr";

    /**
     * A client's request as headers for an HTTP/2 backend (RFC 9113 §8.3.1): the pseudo-headers
     * from its method, target and host ({@code :scheme} the backend's), its fields with the names
     * lower case and the connection-specific ones left out ({@code te: trailers} kept, which gRPC
     * needs), Via and X-Forwarded-* as for an HTTP/1.1 backend.
     */
    static Http2Headers request(Request r, String clientAddress, boolean secure, boolean backendTls, String server) {
        Http2Headers out = new DefaultHttp2Headers(false, 16);
        byte[] b = r.bytes();
        out.method(AsciiString.of(r.methodName()));
        out.scheme(backendTls ? HTTPS : HTTP);
        AsciiString target = new AsciiString(b, r.targetStart(), r.targetEnd() - r.targetStart(), true);
        out.path(r.targetNeedsSlash() ? AsciiString.of("/").concat(target) : target);
        // An HTTP/1.0 request may name no host: HTTP/2 needs an authority, the server's own.
        AsciiString authority = r.hostStart() < 0 ? AsciiString.of(server)
                : new AsciiString(b, r.hostStart(), r.hostEnd() - r.hostStart(), true);
        out.authority(authority);
        StringBuilder via = null;
        StringBuilder forwardedFor = null;
        if (r instanceof HttpHead h) {
            for (int i = 0; i < h.count; i++) {
                int kind = h.kinds[i];
                int ns = h.at[4 * i];
                int ne = h.at[4 * i + 1];
                int vs = h.at[4 * i + 2];
                int ve = h.at[4 * i + 3];
                switch (kind) {
                    case HopByHop.FORWARD, HopByHop.DATE, HopByHop.CONTENT_LENGTH ->
                            out.add(new AsciiString(h.b, ns, ne - ns, true).toLowerCase(), new AsciiString(h.b, vs, ve - vs, true));
                    case HopByHop.VIA -> via = append(via, h.value(i));
                    case HopByHop.X_FORWARDED_FOR -> forwardedFor = append(forwardedFor, h.value(i));
                    case HopByHop.EXPECT -> {
                        if (!h.equalsIgnoreCase(vs, ve, "100-continue")) {
                            out.add(EXPECT, new AsciiString(h.b, vs, ve - vs, true));
                        }
                    }
                    case HopByHop.HOP -> {
                        if (ne - ns == 2 && h.equalsIgnoreCase(vs, ve, "trailers")) {
                            out.add(TE, TRAILERS);
                        }
                    }
                    default -> {
                        // Host (now :authority), the body's framing, hop-by-hop, and what weldr sets itself.
                    }
                }
            }
        } else {
            for (Map.Entry<CharSequence, CharSequence> e : ((Http2Request) r).headers) {
                CharSequence name = e.getKey();
                CharSequence value = e.getValue();
                if (name.length() == 0 || name.charAt(0) == ':' || HOST.contentEquals(name) || X_FORWARDED_PROTO.contentEquals(name)
                        || X_FORWARDED_HOST.contentEquals(name) || HopByHop.connectionSpecific(name)
                        || EXPECT.contentEquals(name) && AsciiString.contentEqualsIgnoreCase(value, "100-continue")) {
                    continue;
                }
                if (VIA.contentEquals(name)) {
                    via = append(via, value);
                } else if (X_FORWARDED_FOR.contentEquals(name)) {
                    forwardedFor = append(forwardedFor, value);
                } else {
                    out.add(name, value);
                }
            }
        }
        String received = r instanceof Http2Request ? VIA_HTTP2 : r.http10() ? "1.0 weldr" : Heads.VIA;
        out.add(VIA, via == null ? received : via.append(", ").append(received).toString());
        out.add(X_FORWARDED_FOR, forwardedFor == null ? clientAddress : forwardedFor.append(", ").append(clientAddress).toString());
        out.add(X_FORWARDED_PROTO, secure ? HTTPS : HTTP);
        out.add(X_FORWARDED_HOST, authority);
        return out;
    }

    private static StringBuilder append(StringBuilder list, CharSequence value) {
        return (list == null ? new StringBuilder() : list.append(", ")).append(value);
    }

    /**
     * An HTTP/2 backend's response head made ready for an HTTP/2 client: as it came (the codec
     * checked it), with Via appended, Date when it had none, and the route's HSTS in place of its own.
     */
    static Http2Headers fromBackend(Http2Headers h, byte[] hsts, HttpDate date) {
        CharSequence via = h.get(VIA);
        h.set(VIA, via == null ? AsciiString.of(VIA_HTTP2) : via + ", " + VIA_HTTP2);
        if (!h.contains(DATE)) {
            h.set(DATE, new AsciiString(date.bytes(), true));
        }
        if (hsts != null) {
            h.set(STRICT_TRANSPORT_SECURITY, hstsValue(hsts));
        }
        return h;
    }

    /**
     * An HTTP/2 head (a backend's, or weldr's own gRPC answer) as an HTTP/1.1 status line and
     * header lines: {@code chunked}, the body goes out in chunks; {@code emptyLength}, the answer
     * ends with its head, which says so (content-length: 0) when it did not; {@code connection}
     * as {@link Heads#response}.
     */
    static ByteBuf http1Response(ByteBufAllocator alloc, Http2Headers h, int status, boolean chunked, boolean emptyLength,
                                 int connection, byte[] hsts, HttpDate date) {
        ByteBuf out = alloc.directBuffer(512);
        out.writeCharSequence("HTTP/1.1 " + status + " " + io.netty.handler.codec.http.HttpResponseStatus.valueOf(status).reasonPhrase()
                + "\r\n", StandardCharsets.ISO_8859_1);
        boolean dated = false;
        boolean length = false;
        CharSequence via = null;
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            CharSequence name = e.getKey();
            if (name.length() == 0 || name.charAt(0) == ':' || HopByHop.connectionSpecific(name)
                    || hsts != null && STRICT_TRANSPORT_SECURITY.contentEquals(name)) {
                continue;
            }
            if (VIA.contentEquals(name)) {
                via = via == null ? e.getValue() : via + ", " + e.getValue();
                continue;
            }
            if (CONTENT_LENGTH.contentEquals(name)) {
                if (chunked) {
                    continue;
                }
                length = true;
            }
            dated |= DATE.contentEquals(name);
            header(out, name, e.getValue());
        }
        if (emptyLength && !length && status != 204 && status != 304) {
            out.writeCharSequence("content-length: 0\r\n", StandardCharsets.ISO_8859_1);
        }
        header(out, VIA, via == null ? VIA_HTTP2 : via + ", " + VIA_HTTP2);
        if (!dated) {
            header(out, DATE, new AsciiString(date.bytes(), true));
        }
        if (hsts != null) {
            out.writeBytes(hsts);
        }
        if (chunked) {
            out.writeCharSequence("transfer-encoding: chunked\r\n", StandardCharsets.ISO_8859_1);
        }
        if (connection == Heads.CONNECTION_CLOSE) {
            out.writeCharSequence("connection: close\r\n", StandardCharsets.ISO_8859_1);
        } else if (connection == Heads.CONNECTION_KEEP_ALIVE) {
            out.writeCharSequence("connection: keep-alive\r\n", StandardCharsets.ISO_8859_1);
        }
        out.writeByte('\r').writeByte('\n');
        return out;
    }

    /** The last chunk with an HTTP/2 backend's trailers as its trailer lines (RFC 9112 §7.1.2). */
    static ByteBuf lastChunk(ByteBufAllocator alloc, Http2Headers trailers) {
        ByteBuf out = alloc.directBuffer(256);
        out.writeByte('0').writeByte('\r').writeByte('\n');
        for (Map.Entry<CharSequence, CharSequence> e : trailers) {
            CharSequence name = e.getKey();
            if (name.length() == 0 || name.charAt(0) == ':' || HopByHop.forbiddenInTrailers(name.toString())) {
                continue;
            }
            header(out, name, e.getValue());
        }
        out.writeByte('\r').writeByte('\n');
        return out;
    }

    private static void header(ByteBuf out, CharSequence name, CharSequence value) {
        out.writeCharSequence(name, StandardCharsets.ISO_8859_1);
        out.writeByte(':').writeByte(' ');
        out.writeCharSequence(value, StandardCharsets.ISO_8859_1);
        out.writeByte('\r').writeByte('\n');
    }

    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
}
