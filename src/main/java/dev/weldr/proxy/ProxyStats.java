package dev.weldr.proxy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What the proxy really did. Client side: requests answered with a backend's response
 * (success) or with weldr's own 502/503/504 (failed). Server side: exchanges with a backend
 * that produced a response below 500 (success), or that failed to connect, reset, timed out
 * or answered 5xx (failed). Requests whose client left before the answer was complete count in
 * neither, but in the {@code weldr.requests} meter with code 499, as nginx logs them.
 */
@ApplicationScoped
public class ProxyStats {

    private static final String NO_SERVER = "none";

    @Inject
    MeterRegistry registry;

    private final LoopCounter clientSuccess = new LoopCounter();
    private final LoopCounter clientFailed = new LoopCounter();
    private final LoopCounter serverSuccess = new LoopCounter();
    private final LoopCounter serverFailed = new LoopCounter();
    /** The last request counter used for answers without a backend (racy on purpose: see {@link ByStatus}). */
    private ByStatus noServer;
    private final ConcurrentHashMap<String, ByStatus> requestCounters = new ConcurrentHashMap<>();
    private volatile Timer duration;
    /** {@code weldr_backend_tls_failures_total} by server and reason, registered at a server's first failure. */
    private final ConcurrentHashMap<String, Counter> tlsFailures = new ConcurrentHashMap<>();

    /** Reasons a TLS connection to a backend failed. */
    static final String TLS_CERTIFICATE = "certificate";
    static final String TLS_HANDSHAKE = "handshake";
    static final String TLS_TIMEOUT = "timeout";

    /**
     * Where the per-request meters live: Quarkus hands out a composite registry, which looks up
     * its children on every increment; with one child (Prometheus), the meters go to it directly.
     */
    private MeterRegistry target() {
        if (registry instanceof CompositeMeterRegistry composite && composite.getRegistries().size() == 1) {
            return composite.getRegistries().iterator().next();
        }
        return registry;
    }

    private Timer duration() {
        Timer t = duration;
        if (t == null) {
            t = Timer.builder("weldr.request.duration")
                    .description("Time from a client request's arrival to the end of its response")
                    .publishPercentileHistogram()
                    .register(target());
            duration = t;
        }
        return t;
    }

    /** Counted by the thread of event loop {@code loop} (so are the others below). */
    void backendAnswered(int loop, Backend backend, int status) {
        if (status >= 500) {
            serverFailed.increment(loop);
            backend.failed.increment(loop);
        } else {
            serverSuccess.increment(loop);
            backend.success.increment(loop);
        }
    }

    void backendFailed(int loop, Backend backend) {
        serverFailed.increment(loop);
        backend.failed.increment(loop);
    }

    /**
     * A TLS connection to a backend failed: its certificate did not verify, the handshake failed
     * otherwise, or it did not finish within the connect timeout. Rare, so a map lookup is fine.
     */
    void backendTlsFailed(Backend backend, String reason) {
        if (!backend.current()) {
            return;
        }
        tlsFailures.computeIfAbsent(backend.id() + '|' + reason, k -> Counter.builder("weldr.backend.tls.failures")
                .description("TLS connections to a backend that failed, by reason: certificate (not verified), handshake, timeout")
                .tag("server", backend.id()).tag("reason", reason)
                .register(target())).increment();
    }

    /** {@code weldr_http2_connections_closed_total} by the error weldr's GOAWAY named, registered at the first. */
    private final ConcurrentHashMap<String, Counter> http2Closed = new ConcurrentHashMap<>();
    /** {@code weldr_http2_streams_reset_total} by error, for the resets weldr sent. */
    private final ConcurrentHashMap<String, Counter> http2Resets = new ConcurrentHashMap<>();

    /**
     * An HTTP/2 client connection weldr closed with an error (a protocol error, a flood of
     * frames, too many resets, a header block too large): the misbehaving clients, by reason.
     */
    void http2ConnectionClosed(String error) {
        http2Closed.computeIfAbsent(error, k -> Counter.builder("weldr.http2.connections.closed")
                .description("HTTP/2 client connections weldr ended with a GOAWAY naming an error, by error")
                .tag("reason", error)
                .register(target())).increment();
    }

    /** weldr reset a client's HTTP/2 stream (a malformed request, a body of the wrong length, a cut answer). */
    void http2StreamReset(String error) {
        http2Resets.computeIfAbsent(error, k -> Counter.builder("weldr.http2.streams.reset")
                .description("HTTP/2 streams weldr reset, by error: protocol_error (malformed request), cancel (answer cut, a body that stopped coming), ...")
                .tag("reason", error)
                .register(target())).increment();
    }

    /**
     * A client request is complete: counted once, whatever happened on the way. {@code success}: a
     * backend's whole answer, or the redirect to HTTPS its route asked for. {@code backendNanos}: when
     * {@code backend} was chosen, where its own latency starts.
     */
    void clientDone(int loop, Backend backend, int status, String protocol, boolean success, long startNanos,
                    long backendNanos) {
        if (success) {
            clientSuccess.increment(loop);
        } else {
            clientFailed.increment(loop);
        }
        ByStatus last = backend == null ? noServer : backend.lastCounter;
        if (last == null || last.status != status || !last.protocol.equals(protocol)) {
            last = counter(backend, status, protocol);
            if (backend == null) {
                noServer = last;
            } else {
                backend.lastCounter = last;
            }
        }
        last.count.increment(loop);
        long now = System.nanoTime();
        duration().record(now - startNanos, TimeUnit.NANOSECONDS);
        if (backend != null) {
            backend.latency.record(loop, now - backendNanos);
        }
    }

    /**
     * The client closed its connection before its answer was complete: nginx's 499. Counted in
     * {@code weldr.requests} with code 499 (by the backend it was sent to, if any), neither a
     * success nor a failure of the proxy's, and not timed (there was no end to its response).
     */
    void clientGone(int loop, Backend backend, String protocol) {
        counter(backend, CLIENT_CLOSED, protocol).count.increment(loop);
    }

    /** nginx's status for a request whose client closed the connection first. */
    static final int CLIENT_CLOSED = 499;

    private ByStatus counter(Backend backend, int status, String protocol) {
        String code = codeLabel(status);
        if (backend != null && !backend.current()) {
            // A request that outlived its server's removal: counting it would bring the removed
            // server's series back, this time for good.
            return new ByStatus(status, protocol, new LoopCounter(), null);
        }
        String server = backend == null ? NO_SERVER : backend.id();
        return requestCounters.computeIfAbsent(server + '|' + code + '|' + protocol, k -> {
            LoopCounter count = new LoopCounter();
            Meter meter = FunctionCounter.builder("weldr.requests", count, LoopCounter::sum)
                    .description("Requests answered by the proxy, by backend, status code and the client's protocol")
                    .tag("server", server).tag("code", code).tag("protocol", protocol)
                    .register(target());
            return new ByStatus(status, protocol, count, meter);
        });
    }

    /**
     * Removes the request counters of every server not in {@code live} (ids, {@code host:port}):
     * servers come and go, and their series must not pile up in every scrape.
     */
    void forgetServersExcept(Set<String> live) {
        for (Iterator<Map.Entry<String, ByStatus>> it = requestCounters.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, ByStatus> e = it.next();
            String server = e.getKey().substring(0, e.getKey().indexOf('|'));
            if (!server.equals(NO_SERVER) && !live.contains(server)) {
                it.remove();
                target().remove(e.getValue().meter);
            }
        }
        for (Iterator<Map.Entry<String, Counter>> it = tlsFailures.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Counter> e = it.next();
            if (!live.contains(e.getKey().substring(0, e.getKey().lastIndexOf('|')))) {
                it.remove();
                target().remove(e.getValue());
            }
        }
    }

    /**
     * The {@code code} label of a status: the code itself when it is one of the standard codes
     * (RFC 9110 and the registered extensions) or nginx's 499, otherwise its class ({@code 2xx})
     * or {@code other}. A backend can send any three digits, and each distinct label is one more
     * series per server: the labels are a fixed set of 69 (63 codes, five classes and other).
     */
    static String codeLabel(int status) {
        return status >= 0 && status < CODE_LABELS.length ? CODE_LABELS[status] : "other";
    }

    private static final int[] KNOWN_CODES = {
            100, 101, 102, 103,
            200, 201, 202, 203, 204, 205, 206, 207, 208, 226,
            300, 301, 302, 303, 304, 305, 307, 308,
            400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418,
            421, 422, 423, 424, 425, 426, 428, 429, 431, 451, CLIENT_CLOSED,
            500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511};
    private static final String[] CODE_LABELS = new String[600];

    static {
        for (int s = 0; s < CODE_LABELS.length; s++) {
            CODE_LABELS[s] = s >= 100 ? (s / 100) + "xx" : "other";
        }
        for (int code : KNOWN_CODES) {
            CODE_LABELS[code] = Integer.toString(code);
        }
    }

    /**
     * A server's request counter for one status code. Each server remembers the last one it used,
     * so the usual case (the same code again) costs no lookup; the object is immutable, so event
     * loops may race on the field and only lose a cache hit.
     */
    static final class ByStatus {
        final int status;
        /** The client's protocol, one of the constant strings of {@link Request#protocol()}. */
        final String protocol;
        final LoopCounter count;
        /** What {@link #forgetServersExcept} removes; null for a counter that was never registered. */
        final Meter meter;

        ByStatus(int status, String protocol, LoopCounter count, Meter meter) {
            this.status = status;
            this.protocol = protocol;
            this.count = count;
            this.meter = meter;
        }
    }

    public long clientSuccess() {
        return clientSuccess.sum();
    }

    public long clientFailed() {
        return clientFailed.sum();
    }

    public long serverSuccess() {
        return serverSuccess.sum();
    }

    public long serverFailed() {
        return serverFailed.sum();
    }
}
