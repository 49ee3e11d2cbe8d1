package dev.weldr.health;

import dev.weldr.cluster.PoolHolder;
import dev.weldr.config.WeldrConfig;
import dev.weldr.events.EventLog;
import dev.weldr.pool.BackendProtocol;
import dev.weldr.pool.BackendTls;
import dev.weldr.pool.HealthCheckSpec;
import dev.weldr.pool.Pool;
import dev.weldr.pool.Server;
import dev.weldr.pool.ServerKey;
import dev.weldr.pool.Topology;
import dev.weldr.tls.BackendTrust;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TrustOptions;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Active health checks, run by every node for itself (observed state is never replicated).
 * Each server of each pool is checked with its pool's settings (a setting the pool leaves unset
 * is this node's {@code weldr.health-check.*} default), starting at a random offset so that the
 * checks of a large pool are spread over the interval; {@code failures} consecutive failed checks
 * mark an active server down, {@code passes} consecutive passes bring it back. An {@code https://}
 * server is checked with its pool's TLS setting, as the proxy talks to it: the same trust, name
 * and SNI, the handshake within the check's timeout. A pool of protocol h2 or h2c is checked in
 * HTTP/2, on one connection per server kept between checks (as Envoy's checks do; an HTTP/1.1
 * check opens a connection each time, as HAProxy's), and may ask the standard gRPC health service
 * instead of a path.
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
    @Inject
    EventLog events;

    /** The client of plain {@code http://} checks. */
    private HttpClient plain;
    /** The client of {@code http://} servers of h2c pools: HTTP/2 from the first byte, no Upgrade. */
    private HttpClient h2c;
    /** One client per distinct TLS setting, SNI and handshake bound of the checked https:// servers; guarded by checks. */
    private final Map<TlsKey, HttpClient> tlsClients = new HashMap<>();
    private final Map<CheckKey, Check> checks = new HashMap<>();
    private volatile boolean running;

    /** The settings a check runs with: the pool's, completed with this node's defaults. */
    record Settings(long intervalMs, long timeoutMs, String path, int statusMin, int statusMax, int failures, int passes,
                    BackendProtocol protocol, String grpcService) {

        static Settings of(HealthCheckSpec spec, BackendProtocol protocol, WeldrConfig.HealthCheck defaults) {
            return new Settings(
                    millis(spec.interval(), defaults.interval()), millis(spec.timeout(), defaults.timeout()),
                    spec.path() != null ? spec.path() : defaults.path(),
                    spec.statusMin() != null ? spec.statusMin() : 200, spec.statusMax() != null ? spec.statusMax() : 299,
                    spec.failures() != null ? spec.failures() : defaults.failures(),
                    spec.passes() != null ? spec.passes() : defaults.passes(), protocol, spec.grpcService());
        }

        private static long millis(Duration d, Duration fallback) {
            return Math.max(1, (d != null ? d : fallback).toMillis());
        }
    }

    private record CheckKey(String pool, ServerKey server) {
    }

    /** What an https client is made with: Vert.x takes trust, SNI and the handshake timeout per client. */
    private record TlsKey(BackendTls tls, boolean sni, long handshakeMs, boolean h2) {
    }

    /** What one check concluded, and what the log says of it when it turns the server's state. */
    private record Verdict(boolean pass, String detail) {
    }

    void start(@Observes @Priority(5) StartupEvent event) {
        plain = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
        h2c = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
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
                BackendProtocol protocol = pool.settings().protocol();
                Settings settings = Settings.of(pool.settings().healthCheck(), protocol, config.healthCheck());
                for (Server server : pool.servers()) {
                    CheckKey key = new CheckKey(pool.name(), server.key());
                    wanted.add(key);
                    BackendTls tls = pool.settings().tls();
                    boolean https = "https".equals(server.scheme());
                    // tls.serverName names TLS peers only: a plain server is checked under its own host.
                    String peer = https ? BackendTrust.peerName(tls, server.host()) : server.host();
                    HttpClient client = https
                            ? tlsClient(new TlsKey(tls, BackendTrust.sendsSni(peer), settings.timeoutMs(), protocol == BackendProtocol.H2))
                            : protocol == BackendProtocol.H2C ? h2c : plain;
                    Check existing = checks.get(key);
                    if (existing != null && existing.server.scheme().equals(server.scheme()) && existing.settings.equals(settings)
                            && existing.client == client && existing.peer.equals(peer)) {
                        continue;
                    }
                    if (existing != null) {
                        existing.cancel();
                    }
                    checks.put(key, new Check(pool.name(), server, settings, client, peer, existing == null || existing.counter.up()));
                }
            }
            checks.entrySet().removeIf(e -> {
                if (!wanted.contains(e.getKey())) {
                    e.getValue().cancel();
                    return true;
                }
                return false;
            });
            tlsClients.values().removeIf(c -> {
                if (checks.values().stream().noneMatch(check -> check.client == c)) {
                    c.close();
                    return true;
                }
                return false;
            });
        }
    }

    /** The client for a TLS setting, made when a check first needs it (where the topology is applied, off the event loops). */
    private HttpClient tlsClient(TlsKey key) {
        return tlsClients.computeIfAbsent(key, k -> {
            HttpClientOptions options = new HttpClientOptions()
                    .setKeepAlive(false)
                    .setForceSni(k.sni())
                    .setSslHandshakeTimeout(k.handshakeMs())
                    .setSslHandshakeTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS);
            if (k.h2()) {
                // Only h2 is offered: a server that does not agree to it cannot serve the pool's traffic.
                options.setUseAlpn(true).setProtocolVersion(HttpVersion.HTTP_2).setAlpnVersions(List.of(HttpVersion.HTTP_2));
            }
            if (k.tls().verify()) {
                try {
                    options.setTrustOptions(TrustOptions.wrap(BackendTrust.trust(k.tls()))).setVerifyHost(true);
                } catch (GeneralSecurityException e) {
                    // Checked when the setting was stored, so not expected: the JDK's trust store alone is
                    // then used, which refuses a server only the pool's CA vouches for (never trusts more).
                    LOG.errorf("the health checks of https:// servers cannot build their trust store: %s", e.getMessage());
                }
            } else {
                options.setTrustAll(true).setVerifyHost(false);
            }
            return vertx.createHttpClient(options);
        });
    }

    /** The check loop of one server: consecutive counts and the next timer. */
    private final class Check {
        final String pool;
        final Server server;
        final Settings settings;
        final HttpClient client;
        /** The host the check asks for: the pool's TLS server name when it has one, else the server's host. */
        final String peer;
        final HealthCounter counter;
        private volatile boolean cancelled;
        private volatile long timer;

        Check(String pool, Server server, Settings settings, HttpClient client, String peer, boolean up) {
            this.pool = pool;
            this.server = server;
            this.settings = settings;
            this.client = client;
            this.peer = peer;
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
                    .setHost(peer)
                    .setPort(server.port())
                    .setSsl("https".equals(server.scheme()))
                    .setConnectTimeout(settings.timeoutMs())
                    .setTimeout(settings.timeoutMs())
                    .putHeader("user-agent", "weldr-health-check");
            // The address the proxy uses (the Host header stays the server's host): a check probes
            // what traffic reaches, and names are looked up in one place (BackendRegistry), never
            // by the client on its event loop.
            InetSocketAddress to = status.address(pool, server.key());
            if (to != null && to.isUnresolved()) {
                record(new Verdict(false, server.host() + " does not resolve"));
                timer = vertx.setTimer(settings.intervalMs(), id -> probe());
                return;
            }
            // With an address to connect to, the host names the TLS peer (SNI, the name checked) only.
            options.setServer(to != null ? SocketAddress.inetSocketAddress(to.getPort(), to.getAddress().getHostAddress())
                    : SocketAddress.inetSocketAddress(server.port(), server.host()));
            client.request(options)
                    .compose(req -> settings.grpcService() != null ? grpc(req) : http(req))
                    .onComplete(ar -> {
                        record(ar.succeeded() ? ar.result() : new Verdict(false, failure(ar.cause())));
                        if (!cancelled) {
                            timer = vertx.setTimer(settings.intervalMs(), id -> probe());
                        }
                    });
        }

        /**
         * Only the status is read: the stream is ended as soon as the head is in, whatever body follows
         * (the default path is "/", which may stream or be huge). In HTTP/1.1 that closes the
         * connection with unread data, a reset, as HAProxy's checks end; in HTTP/2 it is a RST_STREAM.
         */
        private Future<Verdict> http(HttpClientRequest req) {
            req.setMethod(HttpMethod.GET).setURI(settings.path());
            return req.send().map(resp -> {
                resp.exceptionHandler(reset -> {
                });
                req.reset();
                String wrongVersion = wrongVersion(resp);
                if (wrongVersion != null) {
                    return new Verdict(false, wrongVersion);
                }
                int code = resp.statusCode();
                return new Verdict(code >= settings.statusMin() && code <= settings.statusMax(), "HTTP " + code);
            });
        }

        /**
         * grpc.health.v1.Health/Check for the pool's service. The deadline goes along as
         * {@code grpc-timeout}, so that the server gives up when the check does. The answer is read
         * whole, up to {@link GrpcHealth#MAX_ANSWER} bytes: past that the stream is reset.
         */
        private Future<Verdict> grpc(HttpClientRequest req) {
            req.setMethod(HttpMethod.POST).setURI(GrpcHealth.PATH)
                    .putHeader("content-type", "application/grpc")
                    .putHeader("te", "trailers")
                    .putHeader("grpc-timeout", settings.timeoutMs() + "m");
            return req.send(Buffer.buffer(GrpcHealth.request(settings.grpcService()))).compose(resp -> {
                Promise<Verdict> verdict = Promise.promise();
                Buffer body = Buffer.buffer();
                resp.exceptionHandler(verdict::tryFail);
                resp.handler(chunk -> {
                    if (body.length() + chunk.length() > GrpcHealth.MAX_ANSWER) {
                        verdict.tryComplete(new Verdict(false, "an answer over " + GrpcHealth.MAX_ANSWER + " bytes"));
                        req.reset();
                    } else {
                        body.appendBuffer(chunk);
                    }
                });
                resp.endHandler(end -> {
                    String wrongVersion = wrongVersion(resp);
                    String grpcStatus = resp.getTrailer("grpc-status") != null ? resp.getTrailer("grpc-status") : resp.getHeader("grpc-status");
                    String grpcMessage = resp.getTrailer("grpc-message") != null ? resp.getTrailer("grpc-message") : resp.getHeader("grpc-message");
                    String problem = wrongVersion != null ? wrongVersion
                            : GrpcHealth.problem(resp.statusCode(), grpcStatus, grpcMessage, body.getBytes());
                    verdict.tryComplete(new Verdict(problem == null, problem == null ? "SERVING" : problem));
                });
                return verdict.future();
            });
        }

        /** An h2 pool's server that agreed to HTTP/1.1 only (no ALPN): the proxy could not reach it in HTTP/2 either. */
        private String wrongVersion(HttpClientResponse resp) {
            return settings.protocol().http2() && resp.version() != HttpVersion.HTTP_2
                    ? "answered in " + resp.version() + ", not HTTP/2 (the server did not agree to h2 through ALPN)" : null;
        }

        /** Why a check failed; a certificate that did not verify says so (a TLS error's own message rarely does). */
        private String failure(Throwable cause) {
            String tls = BackendTrust.reason(cause);
            if (tls != null && settings.protocol() == BackendProtocol.H2 && !BackendTrust.isVerificationFailure(cause)) {
                // A server that speaks HTTP/1.1 only refuses a handshake that offers h2 alone, and says no more.
                tls += "; the check offers h2 only in ALPN";
            }
            return tls != null ? tls + " (as " + peer + ")" : String.valueOf(cause.getMessage());
        }

        private void record(Verdict verdict) {
            if (cancelled) {
                return;
            }
            String detail = verdict.detail();
            switch (counter.record(verdict.pass())) {
                case WENT_DOWN -> {
                    status.setUp(pool, server.key(), false);
                    LOG.warnf("server %s of pool %s is down: %d consecutive checks failed (last: %s)",
                            server.id(), pool, counter.streak(), detail);
                    events.server(EventLog.Kind.DOWN, pool, server.id(),
                            counter.streak() + " consecutive checks failed (last: " + detail + ")", 0);
                }
                case CAME_BACK -> {
                    status.setUp(pool, server.key(), true);
                    LOG.infof("server %s of pool %s is back: %d consecutive checks passed", server.id(), pool, counter.streak());
                    events.server(EventLog.Kind.UP, pool, server.id(), counter.streak() + " consecutive checks passed", 0);
                }
                case NONE -> {
                }
            }
        }
    }
}
