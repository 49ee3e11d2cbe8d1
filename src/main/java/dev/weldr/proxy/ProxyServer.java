package dev.weldr.proxy;

import dev.weldr.config.WeldrConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Starts the data plane: one {@link ProxyVerticle} per core on the proxy port. */
@ApplicationScoped
public class ProxyServer {

    private static final Logger LOG = Logger.getLogger(ProxyServer.class);
    /** Vert.x's key for weldr's shared random port; Quarkus uses -1 to -3 for its own HTTP servers. */
    private static final int SHARED_RANDOM_PORT = -8080;

    @Inject
    Vertx vertx;
    @Inject
    WeldrConfig config;
    @Inject
    BackendRegistry registry;
    @Inject
    ProxyStats stats;

    private final List<String> deployments = new ArrayList<>();
    private volatile int port = -1;

    void start(@Observes @Priority(20) StartupEvent event) throws Exception {
        int instances = eventLoops();
        // Vert.x never shares a server listening on port 0, so "pick a free port" is asked for with
        // a negative port: one random port, bound once and shared by every instance asking for the
        // same negative number (not -1..-3, which Quarkus uses for its own HTTP servers).
        int listen = config.proxy().port() == 0 ? SHARED_RANDOM_PORT : config.proxy().port();
        ProxyVerticle first = new ProxyVerticle(config, registry, stats, listen);
        deployments.add(vertx.deployVerticle(first).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS));
        int bound = first.actualPort();
        if (instances > 1) {
            deployments.add(vertx.deployVerticle(() -> new ProxyVerticle(config, registry, stats, listen),
                    new DeploymentOptions().setInstances(instances - 1)).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS));
        }
        port = bound;
        LOG.infof("proxy listening on %s:%d (%d event loops)", config.proxy().host(), bound, instances);
    }

    void stop(@Observes ShutdownEvent event) {
        port = -1;
        for (String id : deployments) {
            try {
                vertx.undeploy(id).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.debugf("undeploying the proxy: %s", e.getMessage());
            }
        }
        deployments.clear();
    }

    /** How many proxy instances (event loops, each with its own backend connections) run: one per core. */
    public static int eventLoops() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** The port the proxy listens on, or -1 while it does not listen. */
    public int port() {
        return port;
    }

    public boolean listening() {
        return port > 0;
    }
}
