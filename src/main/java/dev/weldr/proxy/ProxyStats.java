package dev.weldr.proxy;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

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

    /** A client request is complete: counted once, whatever happened on the way. */
    void clientDone(int loop, Backend backend, int status, boolean answeredByBackend, long startNanos) {
        if (answeredByBackend) {
            clientSuccess.increment(loop);
        } else {
            clientFailed.increment(loop);
        }
        ByStatus last = backend == null ? noServer : backend.lastCounter;
        if (last == null || last.status != status) {
            last = counter(backend, status);
            if (backend == null) {
                noServer = last;
            } else {
                backend.lastCounter = last;
            }
        }
        last.count.increment(loop);
        duration().record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * The client closed its connection before its answer was complete: nginx's 499. Counted in
     * {@code weldr.requests} with code 499 (by the backend it was sent to, if any), neither a
     * success nor a failure of the proxy's, and not timed (there was no end to its response).
     */
    void clientGone(int loop, Backend backend) {
        counter(backend, CLIENT_CLOSED).count.increment(loop);
    }

    /** nginx's status for a request whose client closed the connection first. */
    static final int CLIENT_CLOSED = 499;

    private ByStatus counter(Backend backend, int status) {
        String server = backend == null ? NO_SERVER : backend.id();
        return requestCounters.computeIfAbsent(server + '|' + status, k -> {
            ByStatus counter = new ByStatus(status);
            FunctionCounter.builder("weldr.requests", counter.count, LoopCounter::sum)
                    .description("Requests answered by the proxy, by backend and status code")
                    .tag("server", server).tag("code", Integer.toString(status))
                    .register(target());
            return counter;
        });
    }

    /**
     * A server's request counter for one status code. Each server remembers the last one it used,
     * so the usual case (the same code again) costs no lookup; the object is immutable, so event
     * loops may race on the field and only lose a cache hit.
     */
    static final class ByStatus {
        final int status;
        final LoopCounter count = new LoopCounter();

        ByStatus(int status) {
            this.status = status;
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
