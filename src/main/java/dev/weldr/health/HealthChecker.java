package dev.weldr.health;

import dev.weldr.cluster.PoolHolder;
import dev.weldr.config.WeldrConfig;
import dev.weldr.pool.Topology;
import dev.weldr.pool.Server;
import dev.weldr.pool.ServerKey;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Active health checks, run by every node for itself (observed state is never replicated).
 * Each server is checked every interval, starting at a random offset so that the checks of a
 * large pool are spread over the interval; {@code failures} consecutive failed checks mark an
 * active server down, {@code passes} consecutive passes bring it back.
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
    private final Map<ServerKey, Check> checks = new ConcurrentHashMap<>();
    private volatile boolean running;

    void start(@Observes @Priority(5) StartupEvent event) {
        WeldrConfig.HealthCheck hc = config.healthCheck();
        client = vertx.createHttpClient(new HttpClientOptions()
                .setKeepAlive(false)
                .setConnectTimeout((int) hc.timeout().toMillis())
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

    private void reconcile(Topology pool) {
        if (!running) {
            return;
        }
        synchronized (checks) {
            Set<ServerKey> wanted = new HashSet<>();
            for (Server server : pool.servers()) {
                wanted.add(server.key());
                checks.compute(server.key(), (k, existing) -> {
                    if (existing != null && existing.server.scheme().equals(server.scheme())) {
                        return existing;
                    }
                    if (existing != null) {
                        existing.cancel();
                    }
                    return new Check(server);
                });
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
        final Server server;
        private final long intervalMs = Math.max(1, config.healthCheck().interval().toMillis());
        private volatile boolean cancelled;
        private volatile long timer;
        private final HealthCounter counter = new HealthCounter(config.healthCheck().failures(), config.healthCheck().passes());

        Check(Server server) {
            this.server = server;
            timer = vertx.setTimer(1 + ThreadLocalRandom.current().nextLong(intervalMs), id -> probe());
        }

        void cancel() {
            cancelled = true;
            vertx.cancelTimer(timer);
        }

        private void probe() {
            if (cancelled) {
                return;
            }
            WeldrConfig.HealthCheck hc = config.healthCheck();
            RequestOptions options = new RequestOptions()
                    .setMethod(HttpMethod.GET)
                    .setHost(server.host())
                    .setPort(server.port())
                    .setSsl("https".equals(server.scheme()))
                    .setURI(hc.path())
                    .setTimeout(hc.timeout().toMillis())
                    .putHeader("user-agent", "weldr-health-check");
            client.request(options)
                    .compose(req -> req.send())
                    .compose(resp -> resp.body().map(b -> resp))
                    .onComplete(ar -> {
                        boolean pass = ar.succeeded() && isPass(ar.result());
                        record(pass, ar.succeeded() ? "HTTP " + ar.result().statusCode() : String.valueOf(ar.cause().getMessage()));
                        if (!cancelled) {
                            timer = vertx.setTimer(intervalMs, id -> probe());
                        }
                    });
        }

        private boolean isPass(HttpClientResponse response) {
            int code = response.statusCode();
            return code >= 200 && code < 300;
        }

        private void record(boolean pass, String detail) {
            if (cancelled) {
                return;
            }
            switch (counter.record(pass)) {
                case WENT_DOWN -> {
                    status.setUp(server.key(), false);
                    LOG.warnf("server %s is down: %d consecutive checks failed (last: %s)", server.id(), counter.streak(), detail);
                }
                case CAME_BACK -> {
                    status.setUp(server.key(), true);
                    LOG.infof("server %s is back: %d consecutive checks passed", server.id(), counter.streak());
                }
                case NONE -> {
                }
            }
        }
    }
}
