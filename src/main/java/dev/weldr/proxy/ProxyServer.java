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

    @Inject
    Vertx vertx;
    @Inject
    WeldrConfig config;
    @Inject
    BackendRegistry registry;
    @Inject
    ProxyStats stats;

    /** A free port shared by the proxy's instances; see {@link #start}. */
    private static final int SHARED_FREE_PORT = -8080;

    private final List<String> deployments = new ArrayList<>();
    private volatile int port = -1;

    void start(@Observes @Priority(20) StartupEvent event) throws Exception {
        int instances = Math.max(1, Runtime.getRuntime().availableProcessors());
        // The first instance binds; the others share its port. Vert.x never shares a server
        // listening on port 0, so "pick a free port" is asked for as a negative port: a random
        // port, bound once and shared by every server of this Vert.x instance that asks for the
        // same negative value on the same host. Not -1: Quarkus asks for -1 for its own HTTP
        // server (the admin API) when its port is 0, and on the same host the two would share
        // one socket and split the connections between the admin API and the proxy.
        int listen = config.proxy().port() == 0 ? SHARED_FREE_PORT : config.proxy().port();
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

    /** The port the proxy listens on, or -1 while it does not listen. */
    public int port() {
        return port;
    }

    public boolean listening() {
        return port > 0;
    }
}
