package dev.weldr.grpc;

import dev.weldr.tls.TestCertificates;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fixture's server answers every call kind, deadline, failure and health check, client to server with nothing between. */
class GrpcFixtureTest {

    private static final long WAIT_S = 30;

    @Test
    void shouldAnswerEveryCallKindInCleartext() throws Exception {
        try (GrpcFixture server = GrpcFixture.plain()) {
            ManagedChannel channel = server.channel();
            try {
                everyCallKind(channel);
            } finally {
                channel.shutdownNow().awaitTermination(WAIT_S, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void shouldAnswerEveryCallKindOverTls() throws Exception {
        TestCertificates.Issued ca = TestCertificates.ca("weldr gRPC test CA");
        try (GrpcFixture server = GrpcFixture.tls(TestCertificates.leaf(ca, "grpc.backend.test"))) {
            ManagedChannel channel = server.channel();
            try {
                everyCallKind(channel);
            } finally {
                channel.shutdownNow().awaitTermination(WAIT_S, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void shouldEndAWaitingCallAtItsDeadlineAndSeeTheCancellationOnTheServer() throws Exception {
        try (GrpcFixture server = GrpcFixture.plain()) {
            ManagedChannel channel = server.channel();
            try {
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(
                        channel, GrpcFixture.WAIT, CallOptions.DEFAULT.withDeadlineAfter(500, TimeUnit.MILLISECONDS), "x"));
                assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
                assertTrue(server.waitArrived.await(WAIT_S, TimeUnit.SECONDS), "the call reached the server");
                assertTrue(server.waitCancelled.await(WAIT_S, TimeUnit.SECONDS), "the server saw the deadline end the call");
                long left = server.waitDeadlineNanos.get();
                assertTrue(left > 0 && left <= TimeUnit.MILLISECONDS.toNanos(500), "the server got the deadline (grpc-timeout): " + left);
            } finally {
                channel.shutdownNow().awaitTermination(WAIT_S, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void shouldAnswerAWaitingCallWhenReleased() throws Exception {
        try (GrpcFixture server = GrpcFixture.plain()) {
            ManagedChannel channel = server.channel();
            try {
                CompletableFuture<String> answer = CompletableFuture.supplyAsync(() -> ClientCalls.blockingUnaryCall(
                        channel, GrpcFixture.WAIT, CallOptions.DEFAULT.withDeadlineAfter(WAIT_S, TimeUnit.SECONDS), "x"));
                assertTrue(server.waitArrived.await(WAIT_S, TimeUnit.SECONDS));
                assertTrue(!answer.isDone(), "answered before it was released");
                server.release.complete(null);
                assertEquals("released", answer.get(WAIT_S, TimeUnit.SECONDS));
                assertEquals(1, server.waitCancelled.getCount(), "a released call is not cancelled");
            } finally {
                channel.shutdownNow().awaitTermination(WAIT_S, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void shouldFailWithTheChosenStatusDescriptionAndTrailers() throws Exception {
        try (GrpcFixture server = GrpcFixture.plain()) {
            ManagedChannel channel = server.channel();
            try {
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> ClientCalls.blockingUnaryCall(channel, GrpcFixture.FAIL, CallOptions.DEFAULT, "NOT_FOUND|no such order"));
                assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
                assertEquals("no such order", e.getStatus().getDescription());
                assertEquals("failed:NOT_FOUND|no such order", e.getTrailers().get(GrpcFixture.DETAIL));
                assertArrayEquals("NOT_FOUND|no such order".getBytes(StandardCharsets.UTF_8), e.getTrailers().get(GrpcFixture.DETAIL_BIN));

                StatusRuntimeException bare = assertThrows(StatusRuntimeException.class,
                        () -> ClientCalls.blockingUnaryCall(channel, GrpcFixture.FAIL, CallOptions.DEFAULT, "RESOURCE_EXHAUSTED"));
                assertEquals(Status.Code.RESOURCE_EXHAUSTED, bare.getStatus().getCode());
            } finally {
                channel.shutdownNow().awaitTermination(WAIT_S, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void shouldAnswerTheStandardHealthService() throws Exception {
        try (GrpcFixture server = GrpcFixture.plain()) {
            ManagedChannel channel = server.channel();
            try {
                HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
                assertEquals(HealthCheckResponse.ServingStatus.SERVING,
                        health.check(HealthCheckRequest.newBuilder().build()).getStatus(), "the server as a whole starts serving");
                server.health.setStatus("", HealthCheckResponse.ServingStatus.NOT_SERVING);
                server.health.setStatus(GrpcFixture.SERVICE, HealthCheckResponse.ServingStatus.SERVING);
                assertEquals(HealthCheckResponse.ServingStatus.NOT_SERVING, health.check(HealthCheckRequest.newBuilder().build()).getStatus());
                assertEquals(HealthCheckResponse.ServingStatus.SERVING,
                        health.check(HealthCheckRequest.newBuilder().setService(GrpcFixture.SERVICE).build()).getStatus());
            } finally {
                channel.shutdownNow().awaitTermination(WAIT_S, TimeUnit.SECONDS);
            }
        }
    }

    private static void everyCallKind(ManagedChannel channel) throws Exception {
        assertEquals("echo:hello", ClientCalls.blockingUnaryCall(channel, GrpcFixture.UNARY, CallOptions.DEFAULT, "hello"));

        List<String> parts = new ArrayList<>();
        ClientCalls.blockingServerStreamingCall(channel, GrpcFixture.SERVER_STREAMING, CallOptions.DEFAULT, "a,b,c")
                .forEachRemaining(parts::add);
        assertEquals(List.of("a", "b", "c"), parts);

        GrpcFixture.Answers joined = new GrpcFixture.Answers();
        StreamObserver<String> requests = ClientCalls.asyncClientStreamingCall(
                channel.newCall(GrpcFixture.CLIENT_STREAMING, CallOptions.DEFAULT), joined);
        requests.onNext("x");
        requests.onNext("y");
        requests.onNext("z");
        requests.onCompleted();
        assertEquals("x,y,z", joined.next());
        assertTrue(joined.done.get(WAIT_S, TimeUnit.SECONDS));

        // Each answer is awaited before the next request is sent: the two directions really interleave.
        GrpcFixture.Answers chat = new GrpcFixture.Answers();
        StreamObserver<String> said = ClientCalls.asyncBidiStreamingCall(channel.newCall(GrpcFixture.BIDI, CallOptions.DEFAULT), chat);
        for (String word : List.of("one", "two", "three")) {
            said.onNext(word);
            assertEquals("echo:" + word, chat.next());
        }
        said.onCompleted();
        assertTrue(chat.done.get(WAIT_S, TimeUnit.SECONDS));
    }
}
