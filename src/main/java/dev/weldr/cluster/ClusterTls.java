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

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
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
    private SSLContext jdk;
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
    public synchronized Optional<SSLContext> sslContext() {
        if (files == null) {
            return Optional.empty();
        }
        if (jdk == null) {
            try {
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(new KeyManager[]{new CurrentKey()}, new TrustManager[]{new CurrentTrust()}, null);
                jdk = context;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("the JDK's TLS is not available", e);
            }
        }
        return Optional.of(jdk);
    }

    /** Called with the new material after each successful reload (not at start-up). */
    public void onReload(Consumer<ClusterMaterial> listener) {
        listeners.add(listener);
    }

    private final class CurrentKey extends X509ExtendedKeyManager {

        private X509ExtendedKeyManager now() {
            return files.current().keyManager();
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return now().getClientAliases(keyType, issuers);
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return now().chooseClientAlias(keyType, issuers, socket);
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return now().chooseEngineClientAlias(keyType, issuers, engine);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return now().getServerAliases(keyType, issuers);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return now().chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return now().chooseEngineServerAlias(keyType, issuers, engine);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return now().getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return now().getPrivateKey(alias);
        }
    }

    private final class CurrentTrust extends X509ExtendedTrustManager {

        private X509ExtendedTrustManager now() {
            return files.current().trustManager();
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            now().checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            now().checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            now().checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            now().checkServerTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            now().checkClientTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            now().checkServerTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return now().getAcceptedIssuers();
        }
    }
}
