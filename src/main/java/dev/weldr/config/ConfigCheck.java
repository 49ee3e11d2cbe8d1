package dev.weldr.config;

import dev.weldr.acme.AcmeSettings;
import dev.weldr.admin.AdminTokens;
import dev.weldr.tls.CertificateName;
import io.netty.handler.ssl.OpenSsl;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import dev.weldr.pool.HealthCheckSpec;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;

/**
 * Checks what the types of {@link WeldrConfig} cannot: ranges, and the rule that an admin API
 * reachable from other hosts needs a token. Runs before anything starts listening.
 */
@ApplicationScoped
public class ConfigCheck {

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(ConfigCheck.class);

    @Inject
    WeldrConfig config;
    @Inject
    AdminTokens tokens;

    /** A follower's warm-up is meant to cost little CPU: a rate past this is a mistake, not a setting. */
    static final int MAX_WARM_UP = 10_000;

    @ConfigProperty(name = "quarkus.http.host", defaultValue = "127.0.0.1")
    String adminHost;

    @ConfigProperty(name = "quarkus.http.port", defaultValue = "8687")
    int adminPort;

    void check(@Observes @Priority(1) StartupEvent event) {
        port("quarkus.http.port", adminPort);
        port("weldr.proxy.port", config.proxy().port());
        port("weldr.raft.port", config.raft().port());
        port("weldr.proxy.tls-port", config.proxy().tlsPort());
        if (config.proxy().publicTlsPort().isPresent()) {
            int p = config.proxy().publicTlsPort().getAsInt();
            if (p < 1 || p > 65535) {
                throw new InvalidConfigException("weldr.proxy.public-tls-port", "must be a port from 1 to 65535, not " + p);
            }
        }
        positive("weldr.tls.handshake-timeout", config.tls().handshakeTimeout());
        atLeast("weldr.tls.ticket-key-rotation", config.tls().ticketKeyRotation(), Duration.ofSeconds(1));
        String certificate = config.tls().defaultCertificate().orElse("");
        if (!certificate.isEmpty() && !CertificateName.valid(certificate)) {
            throw new InvalidConfigException("weldr.tls.default-certificate", CertificateName.RULE);
        }
        if (config.tls().storeKey().isPresent() && config.tls().storeKey().get().length() < 16) {
            throw new InvalidConfigException("weldr.tls.store-key",
                    "must be at least 16 characters (e.g. the output of openssl rand -hex 32)");
        }
        if (config.tls().provider() == TlsProvider.OPENSSL && !OpenSsl.isAvailable()) {
            throw new InvalidConfigException("weldr.tls.provider", "openssl does not load on this machine ("
                    + firstLine(String.valueOf(OpenSsl.unavailabilityCause())) + "); use auto or jdk");
        }
        AcmeSettings.of(config.acme());
        if (config.proxy().eventLoops() < 0 || config.proxy().eventLoops() > 1024) {
            throw new InvalidConfigException("weldr.proxy.event-loops",
                    "must be 0 (one per core) or a number of event loops up to 1024, not " + config.proxy().eventLoops());
        }
        String accessLog = dev.weldr.proxy.AccessLog.problem(config.proxy().accessLog());
        if (accessLog != null) {
            throw new InvalidConfigException("weldr.proxy.access-log", accessLog);
        }
        if (config.ha().warmUp() < 0 || config.ha().warmUp() > MAX_WARM_UP) {
            throw new InvalidConfigException("weldr.ha.warm-up",
                    "must be 0 (off) or synthetic requests a second up to " + MAX_WARM_UP + ", not " + config.ha().warmUp());
        }
        clusterTls(config.cluster().tls());
        electionTimeout(config.raft().electionTimeout());
        positive("weldr.raft.snapshot-interval", config.raft().snapshotInterval());
        atLeast("weldr.health-check.interval", config.healthCheck().interval(), HealthCheckSpec.MIN_INTERVAL);
        atLeast("weldr.health-check.timeout", config.healthCheck().timeout(), HealthCheckSpec.MIN_INTERVAL);
        atLeastOne("weldr.health-check.failures", config.healthCheck().failures());
        atLeastOne("weldr.health-check.passes", config.healthCheck().passes());
        String pathProblem = HealthCheckSpec.pathProblem(config.healthCheck().path());
        if (pathProblem != null) {
            throw new InvalidConfigException("weldr.health-check.path", pathProblem);
        }
        positive("weldr.timeout.connect", config.timeout().connect());
        positive("weldr.timeout.read", config.timeout().read());
        positive("weldr.timeout.write", config.timeout().write());
        positive("weldr.timeout.drain", config.timeout().drain());
        positive("weldr.timeout.client-head", config.timeout().clientHead());
        positive("weldr.timeout.client-body", config.timeout().clientBody());
        positive("weldr.timeout.client-send", config.timeout().clientSend());
        positive("weldr.timeout.keep-alive", config.timeout().keepAlive());
        positive("weldr.timeout.tunnel", config.timeout().tunnel());
        if (config.proxy().maxConnections() < 0) {
            throw new InvalidConfigException("weldr.proxy.max-connections",
                    "must be 0 (derived from the open-files limit) or a number of client connections, not "
                            + config.proxy().maxConnections());
        }
        for (String peer : config.raft().peers().orElse(List.of())) {
            if (!peer.trim().matches("[^:\\s]+:\\d{1,5}")) {
                throw new InvalidConfigException("weldr.raft.peers", "'" + peer.trim() + "' is not host:port");
            }
        }
        atLeast("weldr.admin.tokens-reload-interval", config.admin().tokensReloadInterval(), Duration.ofMillis(100));
        tokens.load();
        if (!tokens.required() && !config.admin().insecure() && !isLoopback(adminHost)) {
            throw new InvalidConfigException("weldr.admin.token", "the admin API listens on quarkus.http.host=" + adminHost
                    + ", which other hosts can reach: set weldr.admin.token (WELDR_ADMIN_TOKEN) or weldr.admin.tokens-file, "
                    + "or weldr.admin.insecure=true to run it without one");
        }
    }

    /** All three files or none: half of mutual TLS would leave the Raft port open or the node unable to reach its peers. */
    private static void clusterTls(WeldrConfig.Cluster.Tls tls) {
        String[] keys = {"weldr.cluster.tls.cert", "weldr.cluster.tls.key", "weldr.cluster.tls.ca"};
        List<java.util.Optional<String>> values = List.of(tls.cert(), tls.key(), tls.ca());
        long set = values.stream().filter(v -> v.filter(s -> !s.isBlank()).isPresent()).count();
        if (set != 0 && set != 3) {
            for (int i = 0; i < 3; i++) {
                if (values.get(i).filter(s -> !s.isBlank()).isEmpty()) {
                    throw new InvalidConfigException(keys[i], "must be set too: weldr.cluster.tls.cert, .key and .ca go together (all three or none)");
                }
            }
        }
        atLeast("weldr.cluster.tls.reload-interval", tls.reloadInterval(), Duration.ofMillis(100));
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static void port(String key, int value) {
        if (value < 0 || value > 65535) {
            throw new InvalidConfigException(key, "must be a port from 0 to 65535 (0 picks a free port), not " + value);
        }
    }

    /**
     * JRaft sends heartbeats every tenth of the timeout but never more often than every 10 ms, so
     * below 100 ms they no longer come ten to a timeout; above a minute a dead leader goes
     * unnoticed for longer than any client waits (etcd caps its own at 50 s).
     */
    static final Duration ELECTION_TIMEOUT_MIN = Duration.ofMillis(100);
    static final Duration ELECTION_TIMEOUT_MAX = Duration.ofSeconds(60);
    /**
     * A follower stands for election when it heard no heartbeat for a whole timeout, and a leader
     * steps down when a majority has not answered for 90 % of it. In the fault lab on this
     * project's shared 2-core machine (load average 10 to 26), a thread that sleeps 5 ms woke up to
     * 299 ms late, and with a 500 ms timeout leaders stepped down without a failure (2 times in ten
     * idle minutes; README, "Fail-over: where the time goes"): a shorter
     * timeout leaves a stall less room still.
     */
    static final Duration ELECTION_TIMEOUT_SAFE = Duration.ofMillis(500);

    private static void electionTimeout(Duration value) {
        String key = "weldr.raft.election-timeout";
        if (value.compareTo(ELECTION_TIMEOUT_MIN) < 0 || value.compareTo(ELECTION_TIMEOUT_MAX) > 0) {
            throw new InvalidConfigException(key, "must be a duration from " + ELECTION_TIMEOUT_MIN.toMillis() + "ms to "
                    + ELECTION_TIMEOUT_MAX.toSeconds() + "s, not " + value);
        }
        if (value.compareTo(ELECTION_TIMEOUT_SAFE) < 0) {
            LOG.warnf("%s=%dms is below %dms: a node stalled for 90 %% of it by a busy host (stalls of 300 ms measured on a"
                            + " loaded 2-core machine) starts an election, or steps down as leader, while nothing failed", key,
                    value.toMillis(), ELECTION_TIMEOUT_SAFE.toMillis());
        }
    }

    private static void positive(String key, Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new InvalidConfigException(key, "must be a positive duration such as 500ms or 10s, not " + value);
        }
    }

    private static void atLeast(String key, Duration value, Duration min) {
        if (value.compareTo(min) < 0) {
            throw new InvalidConfigException(key, "must be a duration of at least " + min.toMillis() + "ms, not " + value);
        }
    }

    private static void atLeastOne(String key, int value) {
        if (value < 1) {
            throw new InvalidConfigException(key, "must be at least 1, not " + value);
        }
    }
}
