package dev.weldr.proxy;

import dev.weldr.tls.TestCertificates;
import dev.weldr.tls.TlsClient;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.internal.PlatformDependent;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The known HTTP/2 attacks (issue 16, item 4), carried out with raw frames ({@link H2Attacks})
 * against the node's h2c (prior knowledge) and h2 (TLS, ALPN) listeners, each while a
 * well-behaved HTTP/2 client keeps asking a real backend through the node on a connection of its
 * own. Each test asserts that the node ended the attack the way RFC 9113 and Netty's limits do,
 * that every request of the well-behaved client succeeded meanwhile and after, and that memory in
 * use (heap after GC plus direct buffers) stayed flat, and that the connections closed for
 * misbehaving are counted in {@code weldr_http2_connections_closed_total}. Every outcome is printed as one line: what
 * the server did, for the record.
 */
@QuarkusTest
@TestProfile(Http2AttacksTest.ShortClientTimeouts.class)
class Http2AttacksTest extends ProxyTestBase {

    public static class ShortClientTimeouts implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // Short client timeouts: a stalled reader and a header block that never ends are
            // ended by them within the tests' deadlines; longer than a flood takes to reach the
            // limits on frames, so that it is the limit that ends a flood (a connection with no
            // stream open is closed at the head timeout, without counting it as misbehaving). A long backend
            // read timeout: requests held open by the attacks stay open while they are counted.
            // Health checks as patient as by default: the backends share this JVM, and a check late
            // on a machine the attacks load would take the one backend out of the pool, turning the
            // well-behaved client's answers into 503s for a reason other than the node's limits.
            return Map.of(
                    "weldr.timeout.client-head", "10s",
                    "weldr.timeout.client-send", "5s",
                    "weldr.timeout.read", "20s",
                    "weldr.health-check.timeout", "2s");
        }
    }

    /** Long enough for a loaded 2-core machine, short enough that a server that never reacts fails in reasonable time. */
    private static final H2Attacks.Budget BUDGET = new H2Attacks.Budget(Duration.ofSeconds(15), WAIT);
    /** Growth of memory in use that counts as flat: an attack not bounded costs hundreds of MiB here. */
    private static final long SLACK = 64L << 20;

    private static final TestCertificates.Issued CA = TestCertificates.ca("weldr h2 attacks root");

    @AfterEach
    void removeCertificates() {
        removeEveryCertificate();
    }

    private H2Wire.Target h2c() {
        return new H2Wire.Target("127.0.0.1", proxyPort(), null);
    }

    private H2Wire.Target h2() {
        given().contentType("application/json").body(TestCertificates.body(TestCertificates.leaf(CA, "weldr.test")))
                .put("/certificates/fallback").then().statusCode(200);
        return new H2Wire.Target("127.0.0.1", tlsPort(), TlsClient.trusting(CA.certificate()));
    }

    // ---- the attacks --------------------------------------------------------------------------

    @Test
    void rapidResetOverH2cEndsWithEnhanceYourCalm() throws Exception {
        rapidReset(h2c());
    }

    @Test
    void rapidResetOverTlsEndsWithEnhanceYourCalm() throws Exception {
        rapidReset(h2());
    }

    private void rapidReset(H2Wire.Target target) throws Exception {
        TestBackend backend = servedBackend();
        H2Attacks.Outcome o = underAttack(target, () -> H2Attacks.rapidReset(target, BUDGET));
        assertGoAway(o, Http2Error.ENHANCE_YOUR_CALM);
        // 20 000 streams opened and cancelled: those the backend saw are the node's cost.
        long reached = requests(backend, "/rapid-reset");
        assertTrue(reached < 1_000, "the backend got " + reached + " of the attack's requests: " + o);
    }

    @Test
    void madeYouResetEndsWithEnhanceYourCalm() throws Exception {
        TestBackend backend = servedBackend();
        H2Wire.Target target = h2c();
        H2Attacks.Outcome o = underAttack(target, () -> H2Attacks.madeYouReset(target, BUDGET));
        assertGoAway(o, Http2Error.ENHANCE_YOUR_CALM);
        long reached = requests(backend, "/made-you-reset");
        assertTrue(reached < 1_000, "the backend got " + reached + " of the attack's requests: " + o);
    }

    @Test
    void continuationFloodEndsTheConnection() throws Exception {
        TestBackend backend = servedBackend();
        H2Wire.Target target = h2c();
        H2Attacks.Outcome o = underAttack(target, () -> H2Attacks.continuationFlood(target, BUDGET, false));
        assertEnded(o, true);
        assertEquals(0, requests(backend, "/continuation-flood"), "the endless header block reached the backend: " + o);
    }

    @Test
    void emptyContinuationFloodEndsTheConnection() throws Exception {
        TestBackend backend = servedBackend();
        H2Wire.Target target = h2c();
        H2Attacks.Outcome o = underAttack(target, () -> H2Attacks.continuationFlood(target, BUDGET, true));
        // No size limit catches CONTINUATION frames of no bytes: a count, or the head deadline
        // (client-head, 10 s here), has to; a deadline need not count the connection as misbehaving,
        // but a GOAWAY, if any, names an error: the client's request was never whole.
        assertEnded(o, false);
        assertEquals(0, requests(backend, "/continuation-flood"), "the endless header block reached the backend: " + o);
    }

    @Test
    void hpackBombIsRefusedWithoutDecodingIt() throws Exception {
        TestBackend backend = servedBackend();
        H2Wire.Target target = h2c();
        AtomicLong allocated = new AtomicLong();
        H2Attacks.Outcome o = underAttack(target, () -> {
            long before = allocatedBytes();
            H2Attacks.Outcome outcome = H2Attacks.hpackBomb(target, BUDGET, 10);
            allocated.set(allocatedBytes() - before);
            return outcome;
        });
        System.out.println("hpack-bomb: allocated by this JVM's threads meanwhile: " + (allocated.get() >> 20) + " MiB");
        assertEquals(0L, o.facts().get("bombStreamsAnswered2xx"), "a bomb was answered with a 2xx: " + o);
        assertTrue(o.ended() || o.facts().get("bombStreams") == o.wire().resets.size() + o.wire().statuses.size(),
                "every bomb stream is refused (4xx, RST_STREAM) or the connection ended: " + o);
        assertEquals(0, backend.seen().stream().filter(s -> s.headers().contains("x-bomb")).count(),
                "a bomb reached the backend: " + o);
        if (o.ended()) {
            assertEnded(o, true);
        }
        // Each bomb decodes to about 250 MB of header list; decoded in full, ten of them would
        // allocate gigabytes. 512 MiB leaves room for everything else this JVM does meanwhile.
        assertTrue(allocated.get() < 512L << 20, "the bombs cost " + (allocated.get() >> 20) + " MiB of allocations: " + o);
    }

    @Test
    void settingsFloodEndsTheConnection() throws Exception {
        servedBackend();
        H2Wire.Target target = h2c();
        H2Attacks.Outcome o = underAttack(target, () -> H2Attacks.settingsFlood(target, BUDGET));
        // The client reads none of the ACKs: they pile up at the server, whose limit on queued
        // control frames (Netty's 10 000) closes the connection; its GOAWAY may sit behind them.
        assertEnded(o, true);
    }

    @Test
    void pingFloodEndsTheConnection() throws Exception {
        servedBackend();
        H2Wire.Target target = h2c();
        H2Attacks.Outcome o = underAttack(target, () -> H2Attacks.pingFlood(target, BUDGET));
        assertEnded(o, true);
    }

    @Test
    void pingFloodOverTlsEndsTheConnection() throws Exception {
        servedBackend();
        H2Wire.Target target = h2();
        H2Attacks.Outcome o = underAttack(target, () -> H2Attacks.pingFlood(target, BUDGET));
        assertEnded(o, true);
    }

    @Test
    void emptyDataFloodEndsWithEnhanceYourCalm() throws Exception {
        servedBackend();
        H2Wire.Target target = h2c();
        H2Attacks.Outcome o = underAttack(target, () -> H2Attacks.emptyDataFlood(target, BUDGET));
        assertGoAway(o, Http2Error.ENHANCE_YOUR_CALM);
    }

    @Test
    void zeroWindowStallHoldsNoAnswersAndEnds() throws Exception {
        long size = 4L << 20;
        TestBackend backend = backend(TestBackend.options().raw(request -> {
            if (request.path().equals("/big")) {
                stream(request.response(), size);
            } else {
                request.response().end("ok");
            }
        }));
        addServer(backend.port());
        H2Wire.Target target = h2c();
        AtomicLong stalledGrowth = new AtomicLong();
        long before = memoryInUse();
        H2Attacks.Outcome o = underAttack(target, () -> H2Attacks.zeroWindow(target, BUDGET, 128, "/big", (w, streams) -> {
            // The answers' heads are not flow-controlled: all of them arrived once the node has
            // read from every backend what it was going to read.
            await("the node answered every stalled stream's head, or ended them",
                    () -> w.ended() || w.statuses.size() + w.resets.size() >= streams);
            stalledGrowth.set(memoryInUse() - before);
            System.out.println("zero-window: memory in use grew by " + (stalledGrowth.get() >> 20) + " MiB while "
                    + streams + " answers of " + (size >> 20) + " MiB were stalled");
        }));
        long streams = o.facts().get("streams");
        assertTrue(stalledGrowth.get() < SLACK, "with " + streams + " answers of " + (size >> 20)
                + " MiB stalled, memory in use grew by " + (stalledGrowth.get() >> 20) + " MiB: " + o);
        // No byte of an answer can be sent for longer than client-send (5 s): the node's send
        // timeout ends the streams, or the connection.
        assertTrue(o.ended() || o.facts().get("streamsReset") == streams,
                "a client that opens no window keeps its streams: " + o);
    }

    @Test
    void moreStreamsThanAdvertisedAreRefused() throws Exception {
        AtomicInteger held = new AtomicInteger();
        TestBackend backend = backend(TestBackend.options().raw(request -> {
            if (request.path().equals("/more-streams")) {
                held.incrementAndGet(); // held open: the attack never ends the request body
            } else {
                request.response().end("ok");
            }
        }));
        addServer(backend.port());
        H2Wire.Target target = h2c();
        H2Attacks.Outcome o = underAttack(target, () -> H2Attacks.moreStreams(target, BUDGET, 50));
        long max = o.facts().get("advertisedMaxConcurrentStreams");
        assertTrue(max > 0 && max <= 128, "SETTINGS_MAX_CONCURRENT_STREAMS is advertised, 128 (nginx) at most: " + o);
        assertEquals(0L, o.facts().get("withinLimitRefused"), "streams within the limit were refused: " + o);
        // RFC 9113 §5.1.2: a stream error PROTOCOL_ERROR or REFUSED_STREAM; REFUSED_STREAM tells the
        // client that it may retry, and is what Netty sends.
        assertEquals(50L, o.facts().get("beyondLimitRefused"), "every stream beyond the limit is refused: " + o);
        assertTrue(held.get() <= max, held.get() + " requests reached the backend at once, more than the " + max + " advertised: " + o);
    }

    // ---- the well-behaved client, memory and the harness --------------------------------------

    /** A backend answering {@code ok}, in the pool. */
    private TestBackend servedBackend() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        return backend;
    }

    private static void awaitGood(H2Wire.Target target) {
        String last = "nothing yet";
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try (H2Wire w = H2Wire.open(target)) {
                String status = w.get("/good", Duration.ofSeconds(5));
                if ("200".equals(status)) {
                    return;
                }
                last = "status " + status;
            } catch (IOException e) {
                last = e.getMessage();
            }
            if (System.nanoTime() > deadline) {
                fail("a well-behaved HTTP/2 GET to " + target + " got no 200 through the node in " + WAIT + "; last: " + last);
            }
            H2Wire.pause();
        }
    }

    private static long requests(TestBackend backend, String path) {
        return backend.seen().stream().filter(s -> s.uri().startsWith(path)).count();
    }

    /**
     * Runs the attack while a well-behaved client asks the node for {@code /good} on its own
     * connection, over the same listener; asserts every one of its requests succeeded, during and
     * after the attack, and that memory in use stayed flat.
     */
    private H2Attacks.Outcome underAttack(H2Wire.Target target, H2Attacks.Attack attack) throws Exception {
        awaitGood(target);
        closedBefore = MetricsTest.metrics();
        long before = memoryInUse();
        GoodClient good = closeLater(new GoodClient(target));
        await("the well-behaved client got a first answer", () -> good.ok.get() > 0 || !good.failures.isEmpty());
        H2Attacks.Outcome o = attack.run();
        System.out.println(o);
        long after = good.ok.get();
        await("the well-behaved client got 3 more answers after the attack", () -> good.ok.get() >= after + 3 || !good.failures.isEmpty());
        good.close();
        assertEquals(List.of(), List.copyOf(good.failures), "the well-behaved client failed during: " + o);
        long growth = memoryInUse() - before;
        System.out.println(o.attack() + ": memory in use grew by " + (growth >> 20) + " MiB; the well-behaved client got " + good.ok.get() + " answers");
        assertTrue(growth < SLACK, "memory in use grew by " + (growth >> 20) + " MiB after: " + o);
        return o;
    }

    /** GETs {@code /good}, one at a time on one connection, until closed; records every failure. */
    private static final class GoodClient implements AutoCloseable {
        final AtomicInteger ok = new AtomicInteger();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;

        GoodClient(H2Wire.Target target) {
            thread = new Thread(() -> {
                try (H2Wire w = H2Wire.open(target)) {
                    while (!stop.get()) {
                        String status = w.get("/good", Duration.ofSeconds(10));
                        if ("200".equals(status)) {
                            ok.incrementAndGet();
                        } else {
                            failures.add("status " + status);
                        }
                        // A pace, not a wait for anything: a client, not a load generator.
                        LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
                    }
                } catch (IOException | RuntimeException e) {
                    failures.add(e.toString());
                }
            }, "h2-good-client");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(WAIT.toMillis());
        }
    }

    /** Answers {@code size} bytes, written as fast as the reader (the node) takes them. */
    private static void stream(HttpServerResponse response, long size) {
        Buffer chunk = Buffer.buffer(new byte[64 * 1024]);
        AtomicLong left = new AtomicLong(size);
        response.putHeader("content-length", Long.toString(size));
        Runnable[] more = new Runnable[1];
        more[0] = () -> {
            while (left.get() > 0 && !response.writeQueueFull()) {
                response.write(chunk);
                left.addAndGet(-chunk.length());
            }
            if (left.get() > 0) {
                response.drainHandler(v -> more[0].run());
            } else {
                response.end();
            }
        };
        more[0].run();
    }

    /** Heap in use after a GC, plus direct buffers in use: what answers held by the node would fill. */
    static long memoryInUse() {
        long heap = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            heap = Math.min(heap, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        long direct = 0;
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                direct = pool.getMemoryUsed();
            }
        }
        // Netty's direct buffers without a Cleaner are not in the JDK's pool; it counts them itself.
        return heap + direct + Math.max(0, PlatformDependent.usedDirectMemory());
    }

    /** Bytes allocated so far by the threads alive now (the node's event loops among them). */
    private static long allocatedBytes() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long a : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            sum += Math.max(0, a);
        }
        return sum;
    }

    // ---- what the server did -----------------------------------------------------------------

    /** {@code /q/metrics} before the attack. */
    private String closedBefore;

    /** weldr_http2_connections_closed_total for one reason (an error's name in lower case), or all reasons when null. */
    private static double closedForMisbehaving(String metrics, String reason) {
        Matcher m = Pattern.compile("^weldr_http2_connections_closed_total\\{[^}]*reason=\"([^\"]+)\"[^}]*} (\\S+)$", Pattern.MULTILINE)
                .matcher(metrics);
        double sum = 0;
        while (m.find()) {
            if (reason == null || reason.equals(m.group(1))) {
                sum += Double.parseDouble(m.group(2));
            }
        }
        return sum;
    }

    /** The connection was counted as closed for misbehaving, under this reason (any when null). */
    private void assertCounted(H2Attacks.Outcome o, String reason) {
        double before = closedForMisbehaving(closedBefore, reason);
        String what = "weldr_http2_connections_closed_total{reason=" + (reason == null ? "any" : reason) + "} grew";
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (closedForMisbehaving(MetricsTest.metrics(), reason) <= before) {
            if (System.nanoTime() > deadline) {
                fail(what + " in " + WAIT + " (it was " + before + "); " + o);
            }
            H2Wire.pause();
        }
    }

    private void assertGoAway(H2Attacks.Outcome o, Http2Error expected) {
        if (!o.goAway(expected)) {
            fail("expected GOAWAY " + expected + "; " + o);
        }
        assertCounted(o, expected.name().toLowerCase(Locale.ROOT));
    }

    /**
     * Ended by the server, a GOAWAY with an error or the connection closed, and counted as closed
     * for misbehaving when {@code counted}.
     */
    private void assertEnded(H2Attacks.Outcome o, boolean counted) {
        assertTrue(o.ended(), "the server did not end the connection: " + o);
        if (o.goAway() != null) {
            assertNotEquals(Http2Error.NO_ERROR.code(), (long) o.goAway(), "a GOAWAY without an error: " + o);
        }
        if (counted) {
            assertCounted(o, o.goAway() == null ? null : Http2Error.valueOf(o.goAway()).name().toLowerCase(Locale.ROOT));
        }
    }
}
