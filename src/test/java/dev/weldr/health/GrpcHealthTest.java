package dev.weldr.health;

import com.google.protobuf.UnknownFieldSet;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GrpcHealth's wire form against grpc-java's generated health messages, the reference. */
class GrpcHealthTest {

    @Test
    void shouldWriteAFramedRequestTheHealthServiceParses() throws Exception {
        for (String service : new String[] {"", "my.pkg.Orders"}) {
            byte[] framed = GrpcHealth.request(service);
            assertEquals(0, framed[0], "not compressed");
            int length = ((framed[1] & 0xFF) << 24) | ((framed[2] & 0xFF) << 16) | ((framed[3] & 0xFF) << 8) | (framed[4] & 0xFF);
            assertEquals(framed.length - 5, length);
            HealthCheckRequest parsed = HealthCheckRequest.parseFrom(Arrays.copyOfRange(framed, 5, framed.length));
            assertEquals(service, parsed.getService());
            assertEquals(HealthCheckRequest.newBuilder().setService(service).build().toByteArray().length, length);
        }
    }

    @Test
    void shouldPassOnlyAServingAnswerWithStatusZero() {
        assertNull(GrpcHealth.problem(200, "0", null, frame(answer(HealthCheckResponse.ServingStatus.SERVING))));
        assertEquals("status NOT_SERVING", GrpcHealth.problem(200, "0", null, frame(answer(HealthCheckResponse.ServingStatus.NOT_SERVING))));
        assertEquals("status SERVICE_UNKNOWN",
                GrpcHealth.problem(200, "0", null, frame(answer(HealthCheckResponse.ServingStatus.SERVICE_UNKNOWN))));
        assertEquals("status UNKNOWN", GrpcHealth.problem(200, "0", null, frame(new byte[0])), "no status field is UNKNOWN");
        assertEquals("grpc-status 5 (unknown service)", GrpcHealth.problem(200, "5", "unknown service", new byte[0]));
        assertEquals("no grpc-status", GrpcHealth.problem(200, null, null, frame(answer(HealthCheckResponse.ServingStatus.SERVING))));
        assertEquals("HTTP 503", GrpcHealth.problem(503, "0", null, frame(answer(HealthCheckResponse.ServingStatus.SERVING))));
        byte[] compressed = frame(answer(HealthCheckResponse.ServingStatus.SERVING));
        compressed[0] = 1;
        assertEquals("a compressed health message", GrpcHealth.problem(200, "0", null, compressed));
        byte[] truncated = frame(answer(HealthCheckResponse.ServingStatus.SERVING));
        assertEquals("a health message of 1 bytes framed as 2",
                GrpcHealth.problem(200, "0", null, Arrays.copyOf(truncated, truncated.length - 1)));
    }

    /** A newer health service may add fields: they are skipped, whatever their wire type. */
    @Test
    void shouldSkipFieldsItDoesNotKnow() {
        HealthCheckResponse withExtras = HealthCheckResponse.newBuilder().setStatus(HealthCheckResponse.ServingStatus.SERVING)
                .setUnknownFields(UnknownFieldSet.newBuilder()
                        .addField(2, UnknownFieldSet.Field.newBuilder().addLengthDelimited(com.google.protobuf.ByteString.copyFromUtf8("x")).build())
                        .addField(3, UnknownFieldSet.Field.newBuilder().addFixed64(7).build())
                        .addField(4, UnknownFieldSet.Field.newBuilder().addVarint(300).build())
                        .build())
                .build();
        assertNull(GrpcHealth.problem(200, "0", null, frame(withExtras.toByteArray())));
        String cut = GrpcHealth.problem(200, "0", null, frame(new byte[] {0x08}));
        assertTrue(cut.startsWith("a health message that does not parse"), "a status tag with no value: " + cut);
    }

    private static byte[] answer(HealthCheckResponse.ServingStatus status) {
        return HealthCheckResponse.newBuilder().setStatus(status).build().toByteArray();
    }

    private static byte[] frame(byte[] message) {
        byte[] framed = new byte[5 + message.length];
        framed[4] = (byte) message.length;
        System.arraycopy(message, 0, framed, 5, message.length);
        return framed;
    }
}
