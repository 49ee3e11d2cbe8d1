package dev.weldr.grpc;

import dev.weldr.tls.TestCertificates;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real gRPC server (grpc-java on its own shaded Netty) on a free loopback port, in cleartext
 * HTTP/2 (h2c) or over TLS (h2 through ALPN), serving a test service of strings — described with
 * {@link MethodDescriptor}s by hand, so no protoc step — and the standard health service
 * ({@link #health}). The service has every call kind, a call that waits for its deadline and one
 * that fails with a chosen status and trailers.
 */
public final class GrpcFixture implements AutoCloseable {

    public static final String SERVICE = "weldr.test.Fixture";
    /** Answers "echo:" and the request. */
    public static final MethodDescriptor<String, String> UNARY = method("Echo", MethodDescriptor.MethodType.UNARY);
    /** Answers each comma-separated part of the request as its own message. */
    public static final MethodDescriptor<String, String> SERVER_STREAMING = method("Split", MethodDescriptor.MethodType.SERVER_STREAMING);
    /** Answers, once the client is done, the requests joined with commas. */
    public static final MethodDescriptor<String, String> CLIENT_STREAMING = method("Join", MethodDescriptor.MethodType.CLIENT_STREAMING);
    /** Answers each request at once with "echo:" and the request; ends when the client does. */
    public static final MethodDescriptor<String, String> BIDI = method("Chat", MethodDescriptor.MethodType.BIDI_STREAMING);
    /**
     * Answers "released" once {@link #release} is completed, or never: a client's deadline ends it
     * first. {@link #waitArrived} and {@link #waitCancelled} count the server's side of it.
     */
    public static final MethodDescriptor<String, String> WAIT = method("Wait", MethodDescriptor.MethodType.UNARY);
    /**
     * Fails with the status named by the request, "CODE" or "CODE|description" (e.g.
     * "NOT_FOUND|no such order"), and the trailers {@link #DETAIL} ("failed:" and the request) and
     * {@link #DETAIL_BIN} (the request's bytes).
     */
    public static final MethodDescriptor<String, String> FAIL = method("Fail", MethodDescriptor.MethodType.UNARY);

    public static final Metadata.Key<String> DETAIL = Metadata.Key.of("x-fixture-detail", Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<byte[]> DETAIL_BIN = Metadata.Key.of("x-fixture-detail-bin", Metadata.BINARY_BYTE_MARSHALLER);

    /** The standard health service's statuses: {@code health.setStatus("", ServingStatus.NOT_SERVING)}. */
    public final HealthStatusManager health = new HealthStatusManager();
    /** Calls to the health service so far. */
    public final AtomicInteger healthChecks = new AtomicInteger();
    public final CountDownLatch waitArrived = new CountDownLatch(1);
    public final CountDownLatch waitCancelled = new CountDownLatch(1);
    public final CompletableFuture<Void> release = new CompletableFuture<>();
    /** Nanoseconds left of the deadline the last Wait call arrived with (its grpc-timeout); -1 for none, -2 before any call. */
    public final AtomicLong waitDeadlineNanos = new AtomicLong(-2);

    private final Server server;
    private final TestCertificates.Issued certificate;

    private GrpcFixture(ServerCredentials credentials, TestCertificates.Issued certificate) throws IOException {
        this.certificate = certificate;
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), credentials)
                .addService(service())
                .addService(ServerInterceptors.intercept(health.getHealthService(), new ServerInterceptor() {
                    @Override
                    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
                        healthChecks.incrementAndGet();
                        return next.startCall(call, headers);
                    }
                }))
                .build()
                .start();
    }

    /** A server in cleartext HTTP/2 with prior knowledge (h2c), as gRPC speaks without TLS. */
    public static GrpcFixture plain() throws IOException {
        return new GrpcFixture(InsecureServerCredentials.create(), null);
    }

    /** A server over TLS (h2 through ALPN) with that certificate, e.g. {@code TestCertificates.leaf(ca, "localhost")}. */
    public static GrpcFixture tls(TestCertificates.Issued certificate) throws IOException {
        return new GrpcFixture(TlsServerCredentials.create(stream(certificate.chainPem()), stream(certificate.keyPem())), certificate);
    }

    public int port() {
        return server.getPort();
    }

    /** A channel straight to this server; over TLS, trusting the certificate's issuer under its first name. */
    public ManagedChannel channel() throws IOException {
        return channel(port());
    }

    /** A channel to another port (a proxy in front of this server) in this server's protocol and trust. */
    public ManagedChannel channel(int port) throws IOException {
        if (certificate == null) {
            return Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create()).build();
        }
        TestCertificates.Issued root = certificate;
        while (root.issuer() != null) {
            root = root.issuer();
        }
        try {
            String name = certificate.certificate().getSubjectAlternativeNames().iterator().next().get(1).toString();
            return Grpc.newChannelBuilderForAddress("127.0.0.1", port,
                            TlsChannelCredentials.newBuilder().trustManager(stream(TestCertificates.pem(root.certificate()))).build())
                    .overrideAuthority(name).build();
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(30, TimeUnit.SECONDS);
    }

    private ServerServiceDefinition service() {
        return ServerServiceDefinition.builder(SERVICE)
                .addMethod(UNARY, ServerCalls.asyncUnaryCall((request, answer) -> {
                    answer.onNext("echo:" + request);
                    answer.onCompleted();
                }))
                .addMethod(SERVER_STREAMING, ServerCalls.asyncServerStreamingCall((request, answer) -> {
                    for (String part : request.split(",", -1)) {
                        answer.onNext(part);
                    }
                    answer.onCompleted();
                }))
                .addMethod(CLIENT_STREAMING, ServerCalls.asyncClientStreamingCall((StreamObserver<String> answer) -> new StreamObserver<String>() {
                    private final List<String> parts = new ArrayList<>();

                    @Override
                    public void onNext(String part) {
                        parts.add(part);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        answer.onNext(String.join(",", parts));
                        answer.onCompleted();
                    }
                }))
                .addMethod(BIDI, ServerCalls.asyncBidiStreamingCall((StreamObserver<String> answer) -> new StreamObserver<String>() {
                    @Override
                    public void onNext(String message) {
                        answer.onNext("echo:" + message);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        answer.onCompleted();
                    }
                }))
                .addMethod(WAIT, ServerCalls.asyncUnaryCall((request, answer) -> {
                    io.grpc.Deadline deadline = io.grpc.Context.current().getDeadline();
                    waitDeadlineNanos.set(deadline == null ? -1 : deadline.timeRemaining(TimeUnit.NANOSECONDS));
                    ServerCallStreamObserver<String> call = (ServerCallStreamObserver<String>) answer;
                    call.setOnCancelHandler(waitCancelled::countDown);
                    waitArrived.countDown();
                    release.thenRun(() -> {
                        if (!call.isCancelled()) {
                            call.onNext("released");
                            call.onCompleted();
                        }
                    });
                }))
                .addMethod(FAIL, ServerCalls.asyncUnaryCall((request, answer) -> {
                    String[] parts = request.split("\\|", 2);
                    Metadata trailers = new Metadata();
                    trailers.put(DETAIL, "failed:" + request);
                    trailers.put(DETAIL_BIN, request.getBytes(StandardCharsets.UTF_8));
                    Status status = Status.fromCode(Status.Code.valueOf(parts[0]));
                    answer.onError((parts.length == 2 ? status.withDescription(parts[1]) : status).asRuntimeException(trailers));
                }))
                .build();
    }

    private static MethodDescriptor<String, String> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<String, String>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
                .setRequestMarshaller(Utf8.INSTANCE)
                .setResponseMarshaller(Utf8.INSTANCE)
                .build();
    }

    private static InputStream stream(String pem) {
        return new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII));
    }

    /** Messages are UTF-8 strings, whole: no protobuf needed for a test service. */
    private enum Utf8 implements MethodDescriptor.Marshaller<String> {
        INSTANCE;

        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw Status.INTERNAL.withDescription("unreadable message").withCause(e).asRuntimeException();
            }
        }
    }

    /** The answers of a streaming call as they come; {@link #done} completes true when the call ends well. */
    public static final class Answers implements StreamObserver<String> {
        private static final long WAIT_S = 30;
        public final java.util.concurrent.LinkedBlockingQueue<String> received = new java.util.concurrent.LinkedBlockingQueue<>();
        public final CompletableFuture<Boolean> done = new CompletableFuture<>();

        /** The next answer, waited for at most 30 s. */
        public String next() throws InterruptedException {
            String next = received.poll(WAIT_S, TimeUnit.SECONDS);
            if (next == null) {
                throw new AssertionError("no answer within " + WAIT_S + " s; call ended: " + done);
            }
            return next;
        }

        @Override
        public void onNext(String value) {
            received.add(value);
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            done.complete(true);
        }
    }
}
