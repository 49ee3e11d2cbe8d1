package dev.weldr.proxy;

import dev.weldr.config.FreePort;
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

    private final List<String> deployments = new ArrayList<>();
    private volatile int port = -1;

    void start(@Observes @Priority(20) StartupEvent event) throws Exception {
        int instances = Math.max(1, Runtime.getRuntime().availableProcessors());
        // Vert.x shares one listening socket among instances bound to the same host and port; a
        // port of 0 is resolved first so that every instance shares the same one.
        int bound = config.proxy().port() == 0 ? FreePort.pick(config.proxy().host()) : config.proxy().port();
        deployments.add(vertx.deployVerticle(() -> new ProxyVerticle(config, registry, stats, bound),
                new DeploymentOptions().setInstances(instances)).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS));
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
