package dev.weldr.bench;

import dev.weldr.grpc.GrpcFixture;
import dev.weldr.it.WeldrProcess;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * gRPC throughput through weldr against a direct connection to the same grpc-java server: unary
 * calls per second (64 in flight on one channel) and messages per second on one bidirectional
 * stream (echoed, the client sending as fast as flow control lets it). A benchmark: it prints,
 * it asserts nothing about speed. Run with {@code ./mvnw -B verify -Pbench -Dit.test=GrpcBench}.
 * Rounds alternate direct and through weldr; weldr's CPU time per call comes from /proc.
 *
 * <p>Settings: {@code bench.seconds} (per measurement, default 10), {@code bench.rounds} (3).
 */
class GrpcBench {

    private static final int IN_FLIGHT = 64;

    @TempDir
    Path data;

    @Test
    void grpcThroughputDirectAndThroughWeldr() throws Exception {
        int seconds = Integer.getInteger("bench.seconds", 10);
        int rounds = Integer.getInteger("bench.rounds", 3);
        try (GrpcFixture server = GrpcFixture.plain();
             WeldrProcess node = WeldrProcess.create("grpc-bench", data, Map.of()).start()) {
            var patched = node.request("PATCH", "/pools/default", "{\"protocol\":\"h2c\",\"healthCheck\":{\"mode\":\"grpc\"}}");
            if (patched.statusCode() != 200) {
                throw new AssertionError("pool protocol: " + patched.statusCode() + " " + patched.body());
            }
            var added = node.post("/servers", "{\"url\":\"http://127.0.0.1:" + server.port() + "\"}");
            if (added.statusCode() != 201) {
                throw new AssertionError("server: " + added.statusCode() + " " + added.body());
            }
            ManagedChannel direct = server.channel();
            ManagedChannel proxied = server.channel(node.proxyPort);
            WeldrProcess.await(Duration.ofSeconds(30), () -> unaryOnce(proxied), "a call through weldr");
            // Warm both paths (the JIT of the client, the server and weldr) before measuring.
            unary(direct, 10);
            unary(proxied, 20);
            bidi(proxied, 10);
            double[][] unary = new double[2][rounds];
            double[][] stream = new double[2][rounds];
            double[] unaryCpu = new double[rounds];
            double[] streamCpu = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                unary[0][r] = unary(direct, seconds);
                long cpu = cpuNanos(node.pid());
                long calls = Math.round(unary(proxied, seconds) * seconds);
                unaryCpu[r] = (cpuNanos(node.pid()) - cpu) / 1000.0 / calls;
                unary[1][r] = calls / (double) seconds;
                stream[0][r] = bidi(direct, seconds);
                cpu = cpuNanos(node.pid());
                long messages = Math.round(bidi(proxied, seconds) * seconds);
                streamCpu[r] = (cpuNanos(node.pid()) - cpu) / 1000.0 / messages;
                stream[1][r] = messages / (double) seconds;
            }
            System.out.printf("%ngRPC through weldr (h2c pool) against a direct channel, grpc-java %s, %d rounds of %d s, medians%n",
                    io.grpc.ManagedChannelBuilder.class.getPackage().getImplementationVersion(), rounds, seconds);
            System.out.printf("%-28s %14s %14s %10s %16s%n", "case", "direct /s", "weldr /s", "ratio", "weldr CPU us/op");
            System.out.printf("%-28s %,14.0f %,14.0f %10.2f %16.1f%n", "unary, 64 in flight", median(unary[0]), median(unary[1]),
                    median(unary[1]) / median(unary[0]), median(unaryCpu));
            System.out.printf("%-28s %,14.0f %,14.0f %10.2f %16.1f%n", "bidi stream, messages", median(stream[0]), median(stream[1]),
                    median(stream[1]) / median(stream[0]), median(streamCpu));
            direct.shutdownNow();
            proxied.shutdownNow();
        }
    }

    private static boolean unaryOnce(ManagedChannel channel) {
        try {
            return ClientCalls.blockingUnaryCall(channel, GrpcFixture.UNARY, CallOptions.DEFAULT.withDeadlineAfter(2, TimeUnit.SECONDS), "ping")
                    .equals("echo:ping");
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Unary calls completed per second, {@value #IN_FLIGHT} at a time. */
    private static double unary(ManagedChannel channel, int seconds) throws InterruptedException {
        Semaphore slots = new Semaphore(IN_FLIGHT);
        AtomicLong done = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        java.util.concurrent.atomic.AtomicReference<Throwable> firstFailure = new java.util.concurrent.atomic.AtomicReference<>();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() - end < 0) {
            slots.acquire();
            var call = ClientCalls.futureUnaryCall(channel.newCall(GrpcFixture.UNARY, CallOptions.DEFAULT), "ping");
            call.addListener(() -> {
                try {
                    call.get();
                    done.incrementAndGet();
                } catch (Exception e) {
                    failed.incrementAndGet();
                    firstFailure.compareAndSet(null, e);
                }
                slots.release();
            }, Runnable::run);
        }
        slots.acquire(IN_FLIGHT);
        if (failed.get() > 0) {
            throw new AssertionError(failed.get() + " of " + (done.get() + failed.get()) + " unary calls failed, the first with "
                    + firstFailure.get());
        }
        return done.get() / (double) seconds;
    }

    /** Messages echoed per second on one bidirectional stream, sending whenever the stream is ready. */
    private static double bidi(ManagedChannel channel, int seconds) throws InterruptedException {
        AtomicLong received = new AtomicLong();
        java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        ClientCalls.asyncBidiStreamingCall(channel.newCall(GrpcFixture.BIDI, CallOptions.DEFAULT),
                new ClientResponseObserver<String, String>() {
                    private ClientCallStreamObserver<String> requests;
                    private boolean finished;

                    @Override
                    public void beforeStart(ClientCallStreamObserver<String> requests) {
                        this.requests = requests;
                        requests.setOnReadyHandler(this::send);
                    }

                    private synchronized void send() {
                        while (!finished && requests.isReady()) {
                            if (System.nanoTime() - end >= 0) {
                                finished = true;
                                requests.onCompleted();
                                return;
                            }
                            requests.onNext("message of a stream");
                        }
                    }

                    @Override
                    public void onNext(String value) {
                        received.incrementAndGet();
                    }

                    @Override
                    public void onError(Throwable t) {
                        closed.countDown();
                    }

                    @Override
                    public void onCompleted() {
                        closed.countDown();
                    }
                });
        closed.await(seconds + 60L, TimeUnit.SECONDS);
        return received.get() / (double) seconds;
    }

    private static long cpuNanos(long pid) throws Exception {
        String[] f = Files.readString(Path.of("/proc/" + pid + "/stat")).replaceAll("^.*\\) ", "").split(" ");
        // utime and stime (fields 14 and 15 of stat; 12 and 13 after the name), in clock ticks of 10 ms.
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        return v[v.length / 2];
    }
}
