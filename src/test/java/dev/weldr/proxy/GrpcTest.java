package dev.weldr.proxy;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What weldr reads of a gRPC request and how it says its own failures, on heads parsed as they come from a client. */
class GrpcTest {

    private static HttpHead head(String... headers) {
        StringBuilder text = new StringBuilder("POST /pkg.Service/Method HTTP/1.1\r\nHost: a\r\n");
        for (String h : headers) {
            text.append(h).append("\r\n");
        }
        return new HeadScanner(true).next(Unpooled.copiedBuffer(text.append("\r\n").toString(), StandardCharsets.ISO_8859_1));
    }

    @Test
    void shouldTellGrpcByItsContentType() {
        assertTrue(Grpc.is(head("Content-Type: application/grpc")));
        assertTrue(Grpc.is(head("content-type: application/grpc+proto")));
        assertTrue(Grpc.is(head("Content-Type: Application/GRPC; charset=utf-8")));
        assertFalse(Grpc.is(head("Content-Type: application/grpc-web")), "gRPC-Web is another protocol");
        assertFalse(Grpc.is(head("Content-Type: application/json")));
        assertFalse(Grpc.is(head()));
    }

    @Test
    void shouldReadEveryUnitOfGrpcTimeoutAndIgnoreWhatIsNotOne() {
        long start = 1_000;
        assertEquals(start + TimeUnit.HOURS.toNanos(2), Grpc.deadline(head("grpc-timeout: 2H"), start));
        assertEquals(start + TimeUnit.MINUTES.toNanos(3), Grpc.deadline(head("grpc-timeout: 3M"), start));
        assertEquals(start + TimeUnit.SECONDS.toNanos(20), Grpc.deadline(head("grpc-timeout: 20S"), start));
        assertEquals(start + TimeUnit.MILLISECONDS.toNanos(300), Grpc.deadline(head("grpc-timeout: 300m"), start));
        assertEquals(start + TimeUnit.MICROSECONDS.toNanos(99999999), Grpc.deadline(head("grpc-timeout: 99999999u"), start));
        assertEquals(start + 5, Grpc.deadline(head("grpc-timeout: 5n"), start));
        for (String bad : new String[]{"5", "S", "5s", "-5S", "123456789S", "5 S", "1.5S"}) {
            assertEquals(0, Grpc.deadline(head("grpc-timeout: " + bad), start), bad);
        }
        assertEquals(0, Grpc.deadline(head(), start));
    }

    @Test
    void shouldSayItsOwnFailureAsATrailersOnlyAnswerWithThePercentEncodedMessage() {
        Http2Headers h = Grpc.ownAnswer(Grpc.statusOf(503), "503 Service Unavailable: 100% down, é\n");
        assertEquals("200", h.status().toString());
        assertEquals("application/grpc", h.get("content-type").toString());
        assertEquals("14", h.get("grpc-status").toString());
        assertEquals("503 Service Unavailable: 100%25 down, %C3%A9", h.get("grpc-message").toString());
        assertEquals(Grpc.UNAVAILABLE, Grpc.statusOf(502));
        assertEquals(Grpc.DEADLINE_EXCEEDED, Grpc.statusOf(504));
        assertEquals(Grpc.INTERNAL, Grpc.statusOf(400));
    }
}
