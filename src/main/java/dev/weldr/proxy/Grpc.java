package dev.weldr.proxy;

import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;

import java.util.concurrent.TimeUnit;

/**
 * What weldr knows of gRPC (its "PROTOCOL-HTTP2" document): a request is gRPC by its content type,
 * its deadline is its {@code grpc-timeout}, and a failure of weldr's own is told to its client as a
 * gRPC status in a trailers-only answer (HTTP 200), the way Envoy answers, since a gRPC client takes
 * any other answer for a protocol error and says nothing of what happened.
 */
final class Grpc {

    static final int DEADLINE_EXCEEDED = 4;
    static final int INTERNAL = 13;
    static final int UNAVAILABLE = 14;

    private static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    private static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
    private static final AsciiString CONTENT_TYPE = AsciiString.cached("content-type");
    private static final AsciiString APPLICATION_GRPC = AsciiString.cached("application/grpc");
    private static final AsciiString STATUS_200 = AsciiString.cached("200");
    /** gRPC's bound on a timeout's digits. */
    private static final int MAX_DIGITS = 8;

    private Grpc() {
    }

    /** The request is a gRPC call: its content type is application/grpc, alone or with a suffix (+proto, ;...). */
    static boolean is(Request request) {
        String type = request.get("content-type");
        return type != null && type.regionMatches(true, 0, "application/grpc", 0, 16)
                && (type.length() == 16 || type.charAt(16) == '+' || type.charAt(16) == ';');
    }

    /**
     * When the call's deadline passes ({@code grpc-timeout}: up to 8 digits and a unit, H M S m u n),
     * as {@link System#nanoTime} counted from {@code startNanos}; 0 when it has none or an unreadable one.
     */
    static long deadline(Request request, long startNanos) {
        String t = request.get("grpc-timeout");
        if (t == null || t.length() < 2 || t.length() > MAX_DIGITS + 1) {
            return 0;
        }
        long n = 0;
        for (int i = 0; i < t.length() - 1; i++) {
            char c = t.charAt(i);
            if (c < '0' || c > '9') {
                return 0;
            }
            n = n * 10 + (c - '0');
        }
        long nanos = switch (t.charAt(t.length() - 1)) {
            case 'H' -> TimeUnit.HOURS.toNanos(n);
            case 'M' -> TimeUnit.MINUTES.toNanos(n);
            case 'S' -> TimeUnit.SECONDS.toNanos(n);
            case 'm' -> TimeUnit.MILLISECONDS.toNanos(n);
            case 'u' -> TimeUnit.MICROSECONDS.toNanos(n);
            case 'n' -> n;
            default -> -1;
        };
        if (nanos < 0) {
            return 0;
        }
        long at = startNanos + Math.max(1, nanos);
        // 0 means "none": a deadline that falls on it exactly moves by a nanosecond.
        return at == 0 ? 1 : at;
    }

    /** The status weldr's own HTTP answer stands for (gRPC's HTTP-to-status mapping, with a timeout its deadline). */
    static int statusOf(int httpStatus) {
        return switch (httpStatus) {
            case 502, 503 -> UNAVAILABLE;
            case 504 -> DEADLINE_EXCEEDED;
            default -> INTERNAL;
        };
    }

    /** weldr's own failure as a trailers-only gRPC answer with that status. */
    static Http2Headers ownAnswer(int grpcStatus, String text) {
        Http2Headers h = status(grpcStatus, text.strip());
        h.status(STATUS_200);
        h.set(CONTENT_TYPE, APPLICATION_GRPC);
        return h;
    }

    /** Trailers with a gRPC status and its message (percent-encoded as gRPC says). */
    static Http2Headers status(int code, String message) {
        Http2Headers h = new DefaultHttp2Headers(false, 4);
        h.set(GRPC_STATUS, AsciiString.of(Integer.toString(code)));
        h.set(GRPC_MESSAGE, encode(message));
        return h;
    }

    /** gRPC's percent-encoding of grpc-message: printable ASCII but '%' as it is, anything else as %XX of its UTF-8. */
    private static String encode(String message) {
        StringBuilder out = new StringBuilder(message.length());
        for (byte b : message.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '%') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return out.toString();
    }
}
