package dev.weldr.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * weldr's static configuration: what a node needs to start. Everything that changes at run
 * time (the pool) goes through the admin API instead. Every key is also an environment
 * variable ({@code weldr.health-check.interval} → {@code WELDR_HEALTH_CHECK_INTERVAL}).
 */
@ConfigMapping(prefix = "weldr")
public interface WeldrConfig {

    Proxy proxy();

    Raft raft();

    Ha ha();

    Vip vip();

    Admin admin();

    @WithName("health-check")
    HealthCheck healthCheck();

    Timeout timeout();

    Tls tls();

    Acme acme();

    Cluster cluster();

    /** How the nodes of a cluster talk to each other. */
    interface Cluster {
        Tls tls();

        /**
         * Mutual TLS between nodes: the Raft port accepts only peers whose certificate the CA signed
         * and that names the host of the node id they claim. All three files or none; they are read
         * again every {@code reload-interval}, so a rotated certificate is used without a restart.
         */
        interface Tls {
            /** PEM file of this node's certificate (then any intermediates); it must name {@code weldr.raft.host}. */
            Optional<String> cert();

            /** PEM file of the certificate's private key (PKCS#8, PKCS#1 or SEC1, unencrypted). */
            Optional<String> key();

            /** PEM file of the CA certificate(s) a peer's certificate must chain to; several while a CA is rotated. */
            Optional<String> ca();

            /**
             * How often the three files are read again (their contents, since cert-manager swaps
             * symlinks); changed contents are checked, then used for new connections.
             */
            @WithName("reload-interval")
            @WithDefault("10s")
            Duration reloadInterval();
        }
    }

    /**
     * The cluster's ACME account, for certificates weldr obtains and renews itself. Only the
     * leader talks to the CA; every node of a cluster should have the same settings, since any
     * of them may lead.
     */
    interface Acme {
        /**
         * The CA's ACME directory URL (HTTPS), e.g. Let's Encrypt's
         * {@code https://acme-v02.api.letsencrypt.org/directory}. Unset: no managed certificates.
         */
        Optional<String> directory();

        /** Contact address given to the CA (expiry and policy mail). */
        Optional<String> email();

        /** Agreement to the CA's terms of service; without it weldr does not register an account. */
        @WithName("agree-tos")
        @WithDefault("false")
        boolean agreeTos();

        /**
         * PEM file of the CA certificates trusted for the directory's HTTPS, instead of the JDK's:
         * for a private CA (step-ca, Pebble). Unset: the JDK's trust store.
         */
        @WithName("ca-bundle")
        Optional<String> caBundle();

        /** The challenge the leader answers: {@code http-01} (plain listener) or {@code tls-alpn-01} (HTTPS listener). */
        @WithDefault("http-01")
        String challenge();

        /**
         * Renew when this share of a certificate's lifetime remains (Caddy's
         * {@code renewal_window_ratio}): a third of 90 days is 30 days before expiry.
         */
        @WithName("renewal-window-ratio")
        @WithDefault("0.3333")
        double renewalWindowRatio();

        /** The wait after a first failure; it doubles with each failure in a row, up to six hours. */
        @WithName("retry-backoff")
        @WithDefault("1m")
        Duration retryBackoff();
    }

    interface Proxy {
        /** Address the data plane listens on. */
        @WithDefault("0.0.0.0")
        String host();

        /** Port the data plane listens on; 0 picks a free port. */
        @WithDefault("8080")
        int port();

        /**
         * How many event loops (threads) carry the proxied traffic, each with its own backend
         * connections; 0 means one per core, as nginx's {@code worker_processes auto}.
         */
        @WithName("event-loops")
        @WithDefault("0")
        int eventLoops();

        /**
         * The access log: {@code off}, {@code stdout}, or a file to append to; one line per request
         * in nginx's combined format, then the request time and the server that answered.
         */
        @WithName("access-log")
        @WithDefault("off")
        String accessLog();

        /** Port of the HTTPS listener (same address, loops and routes as the plain one); 0 picks a free port. */
        @WithName("tls-port")
        @WithDefault("8443")
        int tlsPort();

        /**
         * The port clients reach the HTTPS listener on, which a route's redirect to HTTPS names
         * (none when 443). Unset: {@code tls-port}. A VIP or a Kubernetes Service that maps 443 to
         * {@code tls-port} makes them differ.
         */
        @WithName("public-tls-port")
        OptionalInt publicTlsPort();

        /**
         * Client connections this node keeps open at most (HAProxy's {@code maxconn}); past it a new
         * one is closed at once. 0 derives it from the open-files limit, leaving room for a backend
         * connection per client and for the admin listener, Raft and the JVM's own files.
         */
        @WithName("max-connections")
        @WithDefault("0")
        int maxConnections();
    }

    interface Tls {
        /**
         * Name of the certificate served to a client whose server name (SNI) no certificate
         * covers, or that sends none. Unset: such a handshake is refused with {@code unrecognized_name}.
         */
        @WithName("default-certificate")
        Optional<String> defaultCertificate();

        /**
         * A secret that encrypts private keys where they are stored (the Raft log and snapshots),
         * with AES-256-GCM; every node of a cluster needs the same. Unset: keys are stored as PEM.
         */
        @WithName("store-key")
        Optional<String> storeKey();

        /** Time a client has to send its ClientHello and to complete the TLS handshake. */
        @WithName("handshake-timeout")
        @WithDefault("10s")
        Duration handshakeTimeout();

        /**
         * {@code auto}: OpenSSL (BoringSSL through netty-tcnative) when it loads on this machine,
         * else the JDK's TLS; {@code openssl}: OpenSSL or no start; {@code jdk}: the JDK's TLS.
         */
        @WithDefault("auto")
        TlsProvider provider();

        /**
         * How often the leader makes a new session-ticket key for the cluster. The two before it
         * still decrypt, so a ticket resumes for at least twice this long after it was issued.
         */
        @WithName("ticket-key-rotation")
        @WithDefault("1h")
        Duration ticketKeyRotation();
    }

    interface Raft {
        /** Address of this node's Raft RPC listener; with the port, this node's id. */
        @WithDefault("127.0.0.1")
        String host();

        /** Port of this node's Raft RPC listener; 0 picks a free port. */
        @WithDefault("8688")
        int port();

        /** Directory of the Raft log, metadata and snapshots. */
        @WithName("data-dir")
        @WithDefault("./data")
        String dataDir();

        /**
         * Initial cluster: comma-separated host:port Raft addresses including this node. Empty
         * means a cluster of this node alone.
         */
        Optional<List<String>> peers();

        /**
         * Raft election timeout: how long followers go without a heartbeat before one stands for
         * election. A leader's death is noticed about 1.1 to 1.2 times it after the kill (see README,
         * "Fail-over: where the time goes", also for when to choose 1s instead).
         */
        @WithName("election-timeout")
        @WithDefault("500ms")
        Duration electionTimeout();

        /**
         * Admin URL of a running node of the cluster to join, e.g. {@code http://10.0.0.1:8687}. A
         * joining node with an empty data directory never starts a cluster of its own: it takes the
         * cluster's identity from that node and asks to be added. Ignored once the node is a member.
         */
        Optional<String> join();

        /** How often the state machine is snapshotted (the log is truncated up to each snapshot). */
        @WithName("snapshot-interval")
        @WithDefault("10m")
        Duration snapshotInterval();
    }

    interface Ha {
        /** {@code active-passive}: only the leader is ready; {@code active-active}: every node with a known leader is. */
        @WithDefault("active-passive")
        HaMode mode();

        /** Command run when this node becomes leader. */
        @WithName("on-leader")
        Optional<String> onLeader();

        /** Command run when this node becomes a follower. */
        @WithName("on-follower")
        Optional<String> onFollower();

        /**
         * On SIGTERM, a leader hands leadership to a follower, then keeps proxying this long so
         * that clients still routed to it (ARP caches, open connections) are served.
         */
        @WithName("stop-drain")
        @WithDefault("1s")
        Duration stopDrain();

        /**
         * Synthetic requests a second that a follower (active/passive mode) sends through its own
         * proxy engine to an internal sink, never to a backend, so that its JIT is warm when it
         * takes over; 0 turns it off. Not counted anywhere; it stops when the node becomes leader.
         */
        @WithName("warm-up")
        @WithDefault("200")
        int warmUp();
    }

    interface Vip {
        /** Virtual IP in CIDR form taken by the leader; empty for none. */
        Optional<String> address();

        /** Interface the virtual IP is added to. */
        @WithName("interface")
        @WithDefault("eth0")
        String iface();

        /**
         * How often the leader repeats its gratuitous ARP for the virtual IP, so that clients
         * that missed one (a healed partition) find it again.
         */
        @WithDefault("5s")
        Duration refresh();
    }

    interface Admin {
        /**
         * When set, the protected resources need {@code Authorization: Bearer <token>}: this is
         * the {@code admin} token named {@code admin}, beside those of {@link #tokensFile()}.
         */
        Optional<String> token();

        /**
         * A file of named tokens, one a line {@code name:scope:secret} (scope {@code read} or
         * {@code admin}; the secret may be {@code sha256:<hex>}), read again when its contents change.
         */
        @WithName("tokens-file")
        Optional<String> tokensFile();

        /** How often the tokens file is read to see whether it changed. */
        @WithName("tokens-reload-interval")
        @WithDefault("5s")
        Duration tokensReloadInterval();

        /** Allows an admin listener on a non-loopback address without a token. */
        @WithDefault("false")
        boolean insecure();

        /**
         * The URL at which the other nodes reach this node's admin API (to forward writes to the
         * leader). Default: {@code http://<weldr.raft.host>:<admin port>}, or
         * {@code https://<weldr.raft.host>:<ssl port>} when the admin listener speaks TLS.
         */
        @WithName("advertised-url")
        Optional<String> advertisedUrl();
    }

    interface HealthCheck {
        /** Time between two active checks of one server. */
        @WithDefault("10s")
        Duration interval();

        /** Path requested by the active check; a 2xx answer passes. */
        @WithDefault("/")
        String path();

        /** Consecutive failures that mark an active server down. */
        @WithDefault("3")
        int failures();

        /** Consecutive passes that mark a down server active again. */
        @WithDefault("2")
        int passes();

        /** Time an active check may take before it counts as failed. */
        @WithDefault("2s")
        Duration timeout();
    }

    interface Timeout {
        /** Connect timeout to a backend. */
        @WithDefault("200ms")
        Duration connect();

        /** Time to wait for a backend's response (and between two reads of its body). */
        @WithDefault("2s")
        Duration read();

        /** Time a backend may take to accept the request while it is written. */
        @WithDefault("2s")
        Duration write();

        /**
         * How long the removal of a server waits for the requests this node still has in flight
         * to it (the server gets no new ones meanwhile) before it is answered.
         */
        @WithDefault("30s")
        Duration drain();

        /** Time a client may take to send a whole request head (nginx's {@code client_header_timeout}): then 408. */
        @WithName("client-head")
        @WithDefault("60s")
        Duration clientHead();

        /** Time a client may stay silent in the middle of a request body (nginx's {@code client_body_timeout}): then 408. */
        @WithName("client-body")
        @WithDefault("60s")
        Duration clientBody();

        /** Time a client may take no byte of its answer before it is disconnected (nginx's {@code send_timeout}). */
        @WithName("client-send")
        @WithDefault("60s")
        Duration clientSend();

        /** Time a client connection stays open idle between two requests (nginx's {@code keepalive_timeout}). */
        @WithName("keep-alive")
        @WithDefault("75s")
        Duration keepAlive();

        /** Time a WebSocket tunnel stays open with no byte either way (HAProxy's {@code timeout tunnel}). */
        @WithDefault("1h")
        Duration tunnel();
    }
}
