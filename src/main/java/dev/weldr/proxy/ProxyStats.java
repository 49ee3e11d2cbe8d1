package dev.weldr.proxy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the proxy really did. Client side: requests answered with a backend's response
 * (success) or with weldr's own 502/503/504 (failed). Server side: exchanges with a backend
 * that produced a response below 500 (success), or that failed to connect, reset, timed out
 * or answered 5xx (failed).
 */
@ApplicationScoped
public class ProxyStats {

    private static final String NO_SERVER = "none";

    @Inject
    MeterRegistry registry;

    private final LongAdder clientSuccess = new LongAdder();
    private final LongAdder clientFailed = new LongAdder();
    private final LongAdder serverSuccess = new LongAdder();
    private final LongAdder serverFailed = new LongAdder();
    private final ConcurrentHashMap<String, Counter> requestCounters = new ConcurrentHashMap<>();
    private volatile Timer duration;

    private Timer duration() {
        Timer t = duration;
        if (t == null) {
            t = Timer.builder("weldr.request.duration")
                    .description("Time from a client request's arrival to the end of its response")
                    .publishPercentileHistogram()
                    .register(registry);
            duration = t;
        }
        return t;
    }

    void backendAnswered(Backend backend, int status) {
        if (status >= 500) {
            serverFailed.increment();
            backend.failed.increment();
        } else {
            serverSuccess.increment();
            backend.success.increment();
        }
    }

    void backendFailed(Backend backend) {
        serverFailed.increment();
        backend.failed.increment();
    }

    /** A client request is complete: counted once, whatever happened on the way. */
    void clientDone(Backend backend, int status, boolean answeredByBackend, long startNanos) {
        if (answeredByBackend) {
            clientSuccess.increment();
        } else {
            clientFailed.increment();
        }
        String server = backend == null ? NO_SERVER : backend.server().id();
        requestCounters.computeIfAbsent(server + '|' + status, k -> Counter.builder("weldr.requests")
                .description("Requests answered by the proxy, by backend and status code")
                .tag("server", server).tag("code", Integer.toString(status))
                .register(registry)).increment();
        duration().record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
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
