package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.nio.charset.StandardCharsets;

/**
 * The heads weldr writes, straight into the bytes that go out: the lines of a head it forwards
 * are copied as they came, except the hop-by-hop ones (RFC 9110 §7.6.1, and whatever Connection
 * names, marked so by {@link HttpHead}); Via is appended, X-Forwarded-* set on requests, Date added to responses that lack it,
 * and the body's framing and the connection's fate written for the connection it goes out on.
 * Also the framing of bodies (chunks) and weldr's own short answers.
 */
final class Heads {

    static final String VIA = "1.1 weldr";
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] HTTP_1_1 = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] STATUS_1_1 = "HTTP/1.1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HOST = "host: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] VIA_NAME = "via: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] VIA_VALUE = VIA.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LIST = ", ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] X_FORWARDED_FOR = "x-forwarded-for: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] X_FORWARDED_PROTO_HTTP = "x-forwarded-proto: http\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] X_FORWARDED_PROTO_HTTPS = "x-forwarded-proto: https\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] X_FORWARDED_HOST = "x-forwarded-host: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] UPGRADE_WEBSOCKET = "connection: upgrade\r\nupgrade: websocket\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DATE = "date: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CHUNKED = "transfer-encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLOSE = "connection: close\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEEP_ALIVE = "connection: keep-alive\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final ByteBuf CONTINUE = constant("HTTP/1.1 100 Continue\r\n\r\n");
    private static final ByteBuf LINE_BREAK = constant("\r\n");
    private static final ByteBuf LAST_CHUNK = constant("0\r\n\r\n");
    private static final ByteBuf LAST_CHUNK_START = constant("0\r\n");
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    /** The connection's fate written in a response: nothing, close, or keep-alive (for HTTP/1.0 clients). */
    static final int CONNECTION_UNSAID = 0;
    static final int CONNECTION_CLOSE = 1;
    static final int CONNECTION_KEEP_ALIVE = 2;

    private Heads() {
    }

    /** At most how many bytes {@link #request} writes. */
    static int requestBound(HttpHead h, String clientAddress) {
        // X-Forwarded-Host repeats the host; an absolute form's Host line is written anew.
        return h.length + 2 * h.count + 192 + clientAddress.length() + Math.max(0, h.hostEnd - h.hostStart)
                + (h.authorityStart >= 0 ? h.authorityEnd - h.authorityStart : 0);
    }

    /** The request of a client of the plain listener made ready for a backend. */
    static void request(ByteBuf out, HttpHead h, String clientAddress, boolean upgrade) {
        request(out, h, clientAddress, upgrade, false);
    }

    /**
     * The client's request made ready for a backend (always HTTP/1.1, kept alive), written to
     * {@code out}; {@code secure}: it came over TLS (X-Forwarded-Proto: https).
     */
    static void request(ByteBuf out, HttpHead h, String clientAddress, boolean upgrade, boolean secure) {
        byte[] b = h.b;
        if (h.authorityStart < 0) {
            out.writeBytes(b, h.methodStart, h.targetEnd - h.methodStart).writeBytes(HTTP_1_1);
        } else {
            // Absolute form: the origin form goes on, and the target's authority is the Host
            // (RFC 9112 §3.2.2: a proxy replaces the received Host with it).
            out.writeBytes(b, h.methodStart, h.methodEnd - h.methodStart + 1);
            if (h.targetNeedsSlash()) {
                out.writeByte('/');
            }
            out.writeBytes(b, h.targetStart, h.targetEnd - h.targetStart).writeBytes(HTTP_1_1)
                    .writeBytes(HOST).writeBytes(b, h.authorityStart, h.authorityEnd - h.authorityStart).writeBytes(CRLF);
        }
        int via = -1;
        int forwardedFor = -1;
        for (int i = 0; i < h.count; i++) {
            int kind = h.kinds[i];
            switch (kind) {
                case HopByHop.FORWARD, HopByHop.DATE -> line(out, h, i);
                // Host and the body's framing go on as the client sent them, whatever Connection says.
                case HopByHop.HOST -> {
                    if (h.authorityStart < 0) {
                        line(out, h, i);
                    }
                }
                case HopByHop.CONTENT_LENGTH, HopByHop.TRANSFER_ENCODING -> line(out, h, i);
                case HopByHop.VIA -> via = via < 0 ? i : via;
                case HopByHop.X_FORWARDED_FOR -> forwardedFor = forwardedFor < 0 ? i : forwardedFor;
                case HopByHop.EXPECT -> {
                    // 100-continue is weldr's to answer; any other expectation goes on.
                    if (!h.equalsIgnoreCase(h.at[4 * i + 2], h.at[4 * i + 3], "100-continue")) {
                        line(out, h, i);
                    }
                }
                default -> {
                    // Hop-by-hop, and the X-Forwarded-Proto and -Host that weldr sets itself.
                }
            }
        }
        via(out, h, via);
        out.writeBytes(X_FORWARDED_FOR);
        if (forwardedFor >= 0) {
            list(out, h, HopByHop.X_FORWARDED_FOR, forwardedFor);
        }
        out.writeCharSequence(clientAddress, StandardCharsets.ISO_8859_1);
        out.writeBytes(CRLF).writeBytes(secure ? X_FORWARDED_PROTO_HTTPS : X_FORWARDED_PROTO_HTTP);
        if (h.hostStart >= 0) {
            out.writeBytes(X_FORWARDED_HOST).writeBytes(b, h.hostStart, h.hostEnd - h.hostStart).writeBytes(CRLF);
        }
        if (upgrade) {
            out.writeBytes(UPGRADE_WEBSOCKET);
        }
        out.writeBytes(CRLF);
    }

    /**
     * The backend's response head made ready for the client. {@code chunked}: the body goes out in
     * chunks (whatever framed it on the way in); {@code connection}: what to say of the client's
     * connection; {@code upgradeTo}: the protocol of an accepted upgrade, or null.
     */
    static void response(ByteBuf out, HttpHead h, boolean chunked, int connection, String upgradeTo, HttpDate date) {
        response(out, h, chunked, connection, upgradeTo, null, date);
    }

    /**
     * {@code hsts}: the route's Strict-Transport-Security line, or null. It replaces the backend's
     * own (two would disagree, and a browser heeds only the first: RFC 6797 §8.1), as HAProxy's
     * {@code http-response set-header} and Caddy's {@code header} do.
     */
    static void response(ByteBuf out, HttpHead h, boolean chunked, int connection, String upgradeTo, byte[] hsts, HttpDate date) {
        byte[] b = h.b;
        out.writeBytes(STATUS_1_1).writeBytes(b, h.statusStart, h.statusEnd - h.statusStart).writeBytes(CRLF);
        int via = -1;
        for (int i = 0; i < h.count; i++) {
            int kind = h.kinds[i];
            if (kind == HopByHop.VIA) {
                via = via < 0 ? i : via;
            } else if (kind == HopByHop.CONTENT_LENGTH) {
                // A body framed by chunks goes out in chunks: its Content-Length was never its
                // length. A 204 has none (RFC 9110 §8.6), whatever the backend said.
                if (!h.hasTransferEncoding && h.status != 204) {
                    line(out, h, i);
                }
            } else if (!HopByHop.isHopByHop(kind) && (hsts == null || !isHsts(h, i))) {
                line(out, h, i);
            }
        }
        if (hsts != null) {
            out.writeBytes(hsts);
        }
        via(out, h, via);
        if (!h.dated) {
            // RFC 9110 §6.6.1: a recipient with a clock adds the Date a forwarded response lacks.
            out.writeBytes(DATE).writeBytes(date.bytes()).writeBytes(CRLF);
        }
        if (chunked) {
            out.writeBytes(CHUNKED);
        }
        if (upgradeTo != null) {
            out.writeCharSequence("connection: upgrade\r\nupgrade: " + upgradeTo + "\r\n", StandardCharsets.ISO_8859_1);
        } else {
            connection(out, connection);
        }
        out.writeBytes(CRLF);
    }

    private static boolean isHsts(HttpHead h, int i) {
        int s = h.at[4 * i];
        return h.equalsIgnoreCase(s, h.at[4 * i + 1], "strict-transport-security");
    }

    /** At most how many bytes {@link #response} writes (the upgrade's protocol comes from the head), HSTS line aside. */
    static int responseBound(HttpHead h) {
        return 2 * h.length + 2 * h.count + 256;
    }

    /** An answer of weldr's own: a short plain-text body, with Via and Date like any other. */
    static ByteBuf text(ByteBufAllocator alloc, int status, String text, int connection, HttpDate date) {
        return text(alloc, status, text, connection, null, true, date);
    }

    /**
     * {@code hsts}: the route's Strict-Transport-Security line, or null. Without {@code withBody}
     * (the answer to a HEAD request) the head says the length the body would have, and no byte of
     * it follows (RFC 9110 §9.3.2): a byte after it would be read as the next response's start.
     */
    static ByteBuf text(ByteBufAllocator alloc, int status, String text, int connection, byte[] hsts, boolean withBody,
            HttpDate date) {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        ByteBuf out = alloc.directBuffer(256 + body.length + (hsts == null ? 0 : hsts.length));
        out.writeCharSequence("HTTP/1.1 " + status + " " + HttpResponseStatus.valueOf(status).reasonPhrase()
                + "\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: " + body.length + "\r\n", StandardCharsets.ISO_8859_1);
        if (hsts != null) {
            out.writeBytes(hsts);
        }
        via(out, null, -1);
        out.writeBytes(DATE).writeBytes(date.bytes()).writeBytes(CRLF);
        connection(out, connection);
        out.writeBytes(CRLF);
        return withBody ? out.writeBytes(body) : out;
    }

    /**
     * A 308 to {@code https://}, the request's host (its bytes {@code hostStart} to {@code hostEnd}, a
     * port left out), {@code :port} unless 443, and the request's path and query as they came. No
     * body: a client follows the Location, and a HEAD answer could have none anyway.
     */
    static ByteBuf redirect(ByteBufAllocator alloc, Request h, int hostEnd, int port, int connection, HttpDate date) {
        String location = HttpsRedirect.location(h, hostEnd, port);
        ByteBuf out = alloc.directBuffer(256 + location.length());
        out.writeCharSequence("HTTP/1.1 308 Permanent Redirect\r\nlocation: ", StandardCharsets.ISO_8859_1);
        out.writeCharSequence(location, StandardCharsets.ISO_8859_1);
        out.writeBytes(CRLF);
        out.writeCharSequence("content-length: 0\r\n", StandardCharsets.ISO_8859_1);
        via(out, null, -1);
        out.writeBytes(DATE).writeBytes(date.bytes()).writeBytes(CRLF);
        connection(out, connection);
        return out.writeBytes(CRLF);
    }

    static ByteBuf continueHead() {
        return CONTINUE.duplicate();
    }

    // ---- chunks -------------------------------------------------------------------------------

    /** The line that opens a chunk of {@code size} bytes (at most 10 bytes). */
    static void chunkStart(ByteBuf out, int size) {
        int shift = 28;
        while (shift > 0 && (size >>> shift) == 0) {
            shift -= 4;
        }
        for (; shift >= 0; shift -= 4) {
            out.writeByte(HEX[(size >>> shift) & 0xf]);
        }
        out.writeByte('\r').writeByte('\n');
    }

    static ByteBuf chunkEnd() {
        return LINE_BREAK.duplicate();
    }

    /** The last chunk of a body without trailers. */
    static ByteBuf lastChunk() {
        return LAST_CHUNK.duplicate();
    }

    /** The last chunk with its trailers (lines ending CR LF), written to {@code out} (5 bytes more than the trailers). */
    static void lastChunk(ByteBuf out, ByteBuf trailers) {
        out.writeBytes(LAST_CHUNK_START, LAST_CHUNK_START.readerIndex(), LAST_CHUNK_START.readableBytes());
        out.writeBytes(trailers, trailers.readerIndex(), trailers.readableBytes());
        out.writeBytes(CRLF);
    }

    // ---- lines --------------------------------------------------------------------------------

    /** Via: the values of the head's Via lines from line {@code first} on (none when -1), then weldr's. */
    private static void via(ByteBuf out, HttpHead h, int first) {
        out.writeBytes(VIA_NAME);
        if (first >= 0) {
            list(out, h, HopByHop.VIA, first);
        }
        out.writeBytes(VIA_VALUE).writeBytes(CRLF);
    }

    private static void connection(ByteBuf out, int connection) {
        if (connection == CONNECTION_CLOSE) {
            out.writeBytes(CLOSE);
        } else if (connection == CONNECTION_KEEP_ALIVE) {
            out.writeBytes(KEEP_ALIVE);
        }
    }

    /** Header line {@code i} as it came, its trailing spaces and bare line feed made a plain CR LF. */
    private static void line(ByteBuf out, HttpHead h, int i) {
        int s = h.at[4 * i];
        out.writeBytes(h.b, s, h.at[4 * i + 3] - s).writeBytes(CRLF);
    }

    /** The values of every header of this kind from the first one on, as one list ending ", ". */
    private static void list(ByteBuf out, HttpHead h, int kind, int from) {
        for (int i = from; i < h.count; i++) {
            if (h.kinds[i] == kind && h.at[4 * i + 3] > h.at[4 * i + 2]) {
                out.writeBytes(h.b, h.at[4 * i + 2], valueLength(h, i)).writeBytes(LIST);
            }
        }
    }

    private static int valueLength(HttpHead h, int i) {
        return h.at[4 * i + 3] - h.at[4 * i + 2];
    }

    private static ByteBuf constant(String text) {
        return Unpooled.unreleasableBuffer(Unpooled.directBuffer(text.length())
                .writeBytes(text.getBytes(StandardCharsets.US_ASCII)));
    }
}
