package dev.weldr.health;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The standard gRPC health service's {@code grpc.health.v1.Health/Check} on the wire: a request
 * naming a service (field 1, a string) and an answer with its status (field 1, an enum), each in a
 * gRPC message frame (a compressed flag and a 4-byte length). Written with protobuf's own wire
 * reader and writer rather than generated classes: two one-field messages need no protoc step, and
 * the reader skips any field a newer health service adds, of whatever wire type.
 */
final class GrpcHealth {

    static final String PATH = "/grpc.health.v1.Health/Check";
    /** The answer is a few bytes; a server that sends more is not a health service. */
    static final int MAX_ANSWER = 1024;
    /** HealthCheckResponse.ServingStatus.SERVING. */
    private static final int SERVING = 1;
    private static final String[] STATUS_NAMES = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};

    private GrpcHealth() {
    }

    /** The framed HealthCheckRequest for that service ("" is the server as a whole, sent as no field at all). */
    static byte[] request(String service) {
        try {
            ByteArrayOutputStream message = new ByteArrayOutputStream();
            CodedOutputStream out = CodedOutputStream.newInstance(message);
            if (!service.isEmpty()) {
                out.writeString(1, service);
            }
            out.flush();
            byte[] body = message.toByteArray();
            byte[] framed = new byte[5 + body.length];
            framed[1] = (byte) (body.length >>> 24);
            framed[2] = (byte) (body.length >>> 16);
            framed[3] = (byte) (body.length >>> 8);
            framed[4] = (byte) body.length;
            System.arraycopy(body, 0, framed, 5, body.length);
            return framed;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Why an answer is not "serving", or null when it is: HTTP 200, {@code grpc-status} 0 (from the
     * trailers, or from the headers of a trailers-only answer) and one uncompressed message whose
     * status is SERVING.
     */
    static String problem(int httpStatus, String grpcStatus, String grpcMessage, byte[] body) {
        if (httpStatus != 200) {
            return "HTTP " + httpStatus;
        }
        if (grpcStatus == null) {
            return "no grpc-status";
        }
        if (!grpcStatus.equals("0")) {
            return "grpc-status " + grpcStatus + (grpcMessage == null ? "" : " (" + grpcMessage + ")");
        }
        if (body.length < 5) {
            return "no health message";
        }
        if (body[0] != 0) {
            return "a compressed health message";
        }
        int length = ((body[1] & 0xFF) << 24) | ((body[2] & 0xFF) << 16) | ((body[3] & 0xFF) << 8) | (body[4] & 0xFF);
        if (length != body.length - 5) {
            return "a health message of " + (body.length - 5) + " bytes framed as " + length;
        }
        int status;
        try {
            status = status(CodedInputStream.newInstance(body, 5, length));
        } catch (IOException e) {
            return "a health message that does not parse: " + e.getMessage();
        }
        return status == SERVING ? null : "status " + (status >= 0 && status < STATUS_NAMES.length ? STATUS_NAMES[status] : status);
    }

    /** Field 1 of a HealthCheckResponse; 0 (UNKNOWN) when absent, as protobuf reads a missing enum. */
    private static int status(CodedInputStream in) throws IOException {
        int status = 0;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (WireFormat.getTagFieldNumber(tag) == 1 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
                status = in.readEnum();
            } else if (!in.skipField(tag)) {
                break;
            }
        }
        return status;
    }
}
