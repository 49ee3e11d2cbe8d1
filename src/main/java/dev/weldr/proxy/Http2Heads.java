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
}
