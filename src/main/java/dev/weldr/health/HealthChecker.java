package dev.weldr.health;

import dev.weldr.cluster.PoolHolder;
import dev.weldr.config.WeldrConfig;
import dev.weldr.pool.HealthCheckSpec;
import dev.weldr.pool.Pool;
import dev.weldr.pool.Server;
import dev.weldr.pool.ServerKey;
import dev.weldr.pool.Topology;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Active health checks, run by every node for itself (observed state is never replicated).
 * Each server of each pool is checked with its pool's settings (a setting the pool leaves unset
 * is this node's {@code weldr.health-check.*} default), starting at a random offset so that the
 * checks of a large pool are spread over the interval; {@code failures} consecutive failed checks
 * mark an active server down, {@code passes} consecutive passes bring it back.
 */
@ApplicationScoped
public class HealthChecker {

    private static final Logger LOG = Logger.getLogger(HealthChecker.class);

    @Inject
    Vertx vertx;
    @Inject
    WeldrConfig config;
    @Inject
    PoolHolder holder;
    @Inject
    StatusSetter status;

    private HttpClient client;
    private final Map<CheckKey, Check> checks = new HashMap<>();
    private volatile boolean running;

    /** The settings a check runs with: the pool's, completed with this node's defaults. */
    record Settings(long intervalMs, long timeoutMs, String path, int statusMin, int statusMax, int failures, int passes) {

        static Settings of(HealthCheckSpec spec, WeldrConfig.HealthCheck defaults) {
            return new Settings(
                    millis(spec.interval(), defaults.interval()), millis(spec.timeout(), defaults.timeout()),
                    spec.path() != null ? spec.path() : defaults.path(),
                    spec.statusMin() != null ? spec.statusMin() : 200, spec.statusMax() != null ? spec.statusMax() : 299,
                    spec.failures() != null ? spec.failures() : defaults.failures(),
                    spec.passes() != null ? spec.passes() : defaults.passes());
        }

        private static long millis(Duration d, Duration fallback) {
            return Math.max(1, (d != null ? d : fallback).toMillis());
        }
    }

    private record CheckKey(String pool, ServerKey server) {
    }

    void start(@Observes @Priority(5) StartupEvent event) {
        client = vertx.createHttpClient(new HttpClientOptions()
                .setKeepAlive(false)
                .setTrustAll(true)
                .setVerifyHost(false));
        running = true;
        holder.subscribe(this::reconcile);
    }

    void stop(@Observes ShutdownEvent event) {
        running = false;
        synchronized (checks) {
            checks.values().forEach(Check::cancel);
            checks.clear();
        }
    }

    private void reconcile(Topology topology) {
        if (!running) {
            return;
        }
        synchronized (checks) {
            Set<CheckKey> wanted = new HashSet<>();
            for (Pool pool : topology.pools()) {
                Settings settings = Settings.of(pool.settings().healthCheck(), config.healthCheck());
                for (Server server : pool.servers()) {
                    CheckKey key = new CheckKey(pool.name(), server.key());
                    wanted.add(key);
                    Check existing = checks.get(key);
                    if (existing != null && existing.server.scheme().equals(server.scheme()) && existing.settings.equals(settings)) {
                        continue;
                    }
                    if (existing != null) {
                        existing.cancel();
                    }
                    checks.put(key, new Check(pool.name(), server, settings, existing == null || existing.counter.up()));
                }
            }
            checks.entrySet().removeIf(e -> {
                if (!wanted.contains(e.getKey())) {
                    e.getValue().cancel();
                    return true;
                }
                return false;
            });
        }
    }

    /** The check loop of one server: consecutive counts and the next timer. */
    private final class Check {
        final String pool;
        final Server server;
        final Settings settings;
        final HealthCounter counter;
        private volatile boolean cancelled;
        private volatile long timer;

        Check(String pool, Server server, Settings settings, boolean up) {
            this.pool = pool;
            this.server = server;
            this.settings = settings;
            this.counter = new HealthCounter(settings.failures(), settings.passes(), up);
            timer = vertx.setTimer(1 + ThreadLocalRandom.current().nextLong(settings.intervalMs()), id -> probe());
        }

        void cancel() {
            cancelled = true;
            vertx.cancelTimer(timer);
        }

        private void probe() {
            if (cancelled) {
                return;
            }
            RequestOptions options = new RequestOptions()
                    .setMethod(HttpMethod.GET)
                    .setHost(server.host())
                    .setPort(server.port())
                    .setSsl("https".equals(server.scheme()))
                    .setURI(settings.path())
                    .setConnectTimeout(settings.timeoutMs())
                    .setTimeout(settings.timeoutMs())
                    .putHeader("user-agent", "weldr-health-check");
            // The address the proxy uses (the Host header stays the server's host): a check probes
            // what traffic reaches, and names are looked up in one place (BackendRegistry), never
            // by the client on its event loop.
            InetSocketAddress to = status.address(pool, server.key());
            if (to != null && to.isUnresolved()) {
                record(false, server.host() + " does not resolve");
                timer = vertx.setTimer(settings.intervalMs(), id -> probe());
                return;
            }
            if (to != null) {
                options.setServer(SocketAddress.inetSocketAddress(to.getPort(), to.getAddress().getHostAddress()));
            }
            // Only the status is read: the connection is closed as soon as the head is in, whatever
            // body follows (the default path is "/", which may stream or be huge). A close with unread
            // data is a reset, as HAProxy's checks end.
            client.request(options)
                    .compose(req -> req.send().map(resp -> {
                        resp.exceptionHandler(reset -> {
                        });
                        req.reset();
                        return resp.statusCode();
                    }))
                    .onComplete(ar -> {
                        boolean pass = ar.succeeded() && ar.result() >= settings.statusMin() && ar.result() <= settings.statusMax();
                        record(pass, ar.succeeded() ? "HTTP " + ar.result() : String.valueOf(ar.cause().getMessage()));
                        if (!cancelled) {
                            timer = vertx.setTimer(settings.intervalMs(), id -> probe());
                        }
                    });
        }

        private void record(boolean pass, String detail) {
            if (cancelled) {
                return;
            }
            switch (counter.record(pass)) {
                case WENT_DOWN -> {
                    status.setUp(pool, server.key(), false);
                    LOG.warnf("server %s of pool %s is down: %d consecutive checks failed (last: %s)",
                            server.id(), pool, counter.streak(), detail);
                }
                case CAME_BACK -> {
                    status.setUp(pool, server.key(), true);
                    LOG.infof("server %s of pool %s is back: %d consecutive checks passed", server.id(), pool, counter.streak());
                }
                case NONE -> {
                }
            }
        }
    }
}
