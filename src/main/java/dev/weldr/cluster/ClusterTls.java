package dev.weldr.cluster;

import dev.weldr.config.WeldrConfig;
import dev.weldr.tls.ClusterFiles;
import dev.weldr.tls.ClusterMaterial;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import javax.net.ssl.SSLContext;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * This node's cluster TLS material ({@code weldr.cluster.tls.*}), loaded at start-up (bad
 * material stops it with one line naming the key) and read again every {@code reload-interval}
 * ({@link ClusterFiles}): new, good files are used by the connections opened after.
 */
@ApplicationScoped
public class ClusterTls {

    private static final Logger LOG = Logger.getLogger(ClusterTls.class);

    @Inject
    WeldrConfig config;
    @Inject
    MeterRegistry registry;

    private volatile ClusterFiles files;
    private final List<Consumer<ClusterMaterial>> listeners = new CopyOnWriteArrayList<>();
    private ScheduledExecutorService reloader;

    /** After {@code ConfigCheck} (1) and before the Raft node (10), which listens with this material. */
    void start(@Observes @Priority(2) StartupEvent event) {
        WeldrConfig.Cluster.Tls tls = config.cluster().tls();
        if (tls.cert().isEmpty()) {
            return;
        }
        ClusterFiles f = new ClusterFiles(Path.of(tls.cert().get()), Path.of(tls.key().get()), Path.of(tls.ca().get()),
                contents -> ClusterMaterial.of(contents, config.raft().host(), config.tls().provider(),
                        config.tls().handshakeTimeout().toMillis(), Instant.now()));
        ClusterMaterial first = f.load();
        files = f;
        Gauge.builder("weldr.cluster.tls.certificate.expiry.seconds", f, x -> Duration.between(Instant.now(), x.current().notAfter()).toSeconds())
                .description("Seconds until this node's cluster certificate (weldr.cluster.tls.cert) expires (negative once it has)")
                .register(registry);
        Gauge.builder("weldr.cluster.tls.certificate.not.after.timestamp.seconds", f, x -> x.current().notAfter().getEpochSecond())
                .description("When the cluster certificate in use expires (notAfter), in seconds since the epoch")
                .register(registry);
        long every = tls.reloadInterval().toMillis();
        reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "weldr-cluster-tls-reload");
            t.setDaemon(true);
            return t;
        });
        reloader.scheduleWithFixedDelay(this::reload, every, every, TimeUnit.MILLISECONDS);
        LOG.infof("Cluster TLS on the Raft port: %s; files read again every %s", first.describe(), tls.reloadInterval());
    }

    void stop(@Observes ShutdownEvent event) {
        if (reloader != null) {
            reloader.shutdownNow();
        }
    }

    private void reload() {
        try {
            ClusterMaterial next = files.reload();
            if (next != null) {
                listeners.forEach(l -> l.accept(next));
            }
        } catch (RuntimeException e) {
            // The timer would stop for good on an exception: log it and poll again next time.
            LOG.errorf("Cluster TLS: reloading failed: %s", e.toString());
        }
    }

    /** True when {@code weldr.cluster.tls.*} is set. */
    public boolean enabled() {
        return files != null;
    }

    /** The material in use; empty when cluster TLS is off. */
    public Optional<ClusterMaterial> current() {
        ClusterFiles f = files;
        return f == null ? Optional.empty() : Optional.of(f.current());
    }

    /**
     * A JDK context for HTTPS between nodes: presents this node's certificate, trusts the
     * cluster's CA (the client checks the host name itself), and follows reloads, so a client
     * built once with it uses the newest material for each new connection. Empty when cluster TLS is off.
     */
    public Optional<SSLContext> sslContext() {
        ClusterFiles f = files;
        return f == null ? Optional.empty() : Optional.of(f.sslContext());
    }

    /** Called with the new material after each successful reload (not at start-up). */
    public void onReload(Consumer<ClusterMaterial> listener) {
        listeners.add(listener);
    }
}
