package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The heads weldr forwards, rewritten in place in one pass over their headers: hop-by-hop headers
 * (RFC 9110 §7.6.1, and whatever Connection names) removed, Via appended, X-Forwarded-* set on
 * requests, Date added to responses that lack it, and the body's framing decided for the
 * connection it goes out on. The decoder's header objects are reused: nothing is copied.
 */
final class Heads {

    static final String VIA = "1.1 weldr";
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    private static final AsciiString HTTP = AsciiString.cached("http");

    private Heads() {
    }

    /** The client's request made ready for a backend (always HTTP/1.1, kept alive). */
    static void request(HttpRequest req, String clientAddress, String host) {
        HttpHeaders h = req.headers();
        List<String> named = connectionNamed(h);
        List<String> drop = null;
        StringBuilder via = null;
        StringBuilder forwardedFor = null;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> header = it.next();
            String name = header.getKey().toString();
            switch (HopByHop.kind(name)) {
                case HopByHop.FORWARD, HopByHop.DATE -> {
                    if (named != null && HopByHop.listed(named, name)) {
                        drop = add(drop, name);
                    }
                }
                case HopByHop.VIA -> via = HopByHop.join(via, header.getValue().toString());
                case HopByHop.X_FORWARDED_FOR -> forwardedFor = HopByHop.join(forwardedFor, header.getValue().toString());
                case HopByHop.EXPECT -> {
                    // 100-continue is weldr's to answer; any other expectation goes on.
                    if (header.getValue().toString().trim().equalsIgnoreCase("100-continue")) {
                        drop = add(drop, name);
                    }
                }
                case HopByHop.HOP, HopByHop.X_FORWARDED_PROTO, HopByHop.X_FORWARDED_HOST -> drop = add(drop, name);
                default -> {
                    // Host goes on as the client sent it; Transfer-Encoding (only chunked gets
                    // this far) frames the body the same way on the backend connection.
                }
            }
        }
        remove(h, drop);
        h.set(HttpHeaderNames.VIA, via == null ? VIA : via.append(", ").append(VIA).toString());
        h.set(X_FORWARDED_FOR, forwardedFor == null ? clientAddress : forwardedFor.append(", ").append(clientAddress).toString());
        h.set(X_FORWARDED_PROTO, HTTP);
        if (host != null) {
            h.set(X_FORWARDED_HOST, host);
        }
        req.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    /**
     * The backend's response made ready for the client. Returns true when the client's connection
     * must close after it: the client asked for that, or an HTTP/1.0 client gets a body whose end
     * only the connection's end can tell.
     */
    static boolean response(HttpResponse resp, Exchange ex, HttpDate date) {
        HttpHeaders h = resp.headers();
        List<String> named = connectionNamed(h);
        List<String> drop = null;
        StringBuilder via = null;
        boolean dated = false;
        boolean chunked = false;
        boolean length = false;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> header = it.next();
            String name = header.getKey().toString();
            int kind = HopByHop.kind(name);
            switch (kind) {
                case HopByHop.HOP -> drop = add(drop, name);
                case HopByHop.VIA -> via = HopByHop.join(via, header.getValue().toString());
                case HopByHop.TRANSFER_ENCODING -> chunked = true;
                default -> {
                    if (named != null && HopByHop.listed(named, name)) {
                        drop = add(drop, name);
                    } else {
                        dated |= kind == HopByHop.DATE;
                        length |= name.length() == 14 && HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name);
                    }
                }
            }
        }
        remove(h, drop);
        h.set(HttpHeaderNames.VIA, via == null ? VIA : via.append(", ").append(VIA).toString());
        if (!dated) {
            // RFC 9110 §6.6.1: a recipient with a clock adds the Date a forwarded response lacks.
            h.set(HttpHeaderNames.DATE, date.now());
        }
        int status = resp.status().code();
        boolean close = !ex.keepAlive;
        if (ex.head || status == 204 || status == 304 || status < 200) {
            h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        } else if (!length) {
            if (ex.http10) {
                // An HTTP/1.0 client cannot take chunks: the body is streamed and its end is the
                // connection's end (RFC 9112 §6.3), instead of being held whole in memory.
                h.remove(HttpHeaderNames.TRANSFER_ENCODING);
                close = true;
            } else {
                // Chunked from the backend, or delimited by its connection's end: chunked to the client.
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
        } else if (chunked) {
            h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        }
        if (close) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (ex.http10) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        resp.setProtocolVersion(HttpVersion.HTTP_1_1);
        return close;
    }

    /** An answer of weldr's own: a short plain-text body, with Via and Date like any other. */
    static FullHttpResponse text(HttpResponseStatus status, String text, HttpDate date) {
        ByteBuf body = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        resp.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.VIA, VIA)
                .set(HttpHeaderNames.DATE, date.now());
        return resp;
    }

    /** The header names a Connection header lists (hop-by-hop too), or null. */
    private static List<String> connectionNamed(HttpHeaders h) {
        if (!h.contains(HttpHeaderNames.CONNECTION)) {
            return null;
        }
        return HopByHop.named(h.getAll(HttpHeaderNames.CONNECTION));
    }

    private static List<String> add(List<String> list, String name) {
        if (list == null) {
            list = new ArrayList<>(4);
        }
        list.add(name);
        return list;
    }

    private static void remove(HttpHeaders h, List<String> names) {
        if (names != null) {
            for (String name : names) {
                h.remove(name);
            }
        }
    }
}
