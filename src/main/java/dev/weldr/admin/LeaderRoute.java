package dev.weldr.admin;

import dev.weldr.cluster.ClusterService;
import dev.weldr.cluster.ClusterTls;
import dev.weldr.cluster.Leadership;
import dev.weldr.cluster.NoLeaderException;
import dev.weldr.config.WeldrConfig;
import dev.weldr.pool.Actor;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.client.Client;
import jakarta.ws.rs.client.ClientBuilder;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.client.Invocation;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;

import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Where a mutating admin call is carried out: here when this node leads, otherwise on the leader,
 * whose answer is returned as it is. With no leader yet, the call waits up to an election timeout
 * and a second for one, then gets 503 with Retry-After. Every answer names the leader in
 * {@code X-Weldr-Leader}.
 */
@ApplicationScoped
public class LeaderRoute {

    public static final String LEADER_HEADER = "X-Weldr-Leader";
    static final String FORWARDED_HEADER = "X-Weldr-Forwarded-By";
    private static final Logger LOG = Logger.getLogger(LeaderRoute.class);

    @Inject
    Leadership leadership;
    @Inject
    ClusterService cluster;
    @Inject
    WeldrConfig config;
    @Inject
    Caller caller;
    @Inject
    ClusterTls clusterTls;

    private volatile Client client;
    private boolean renewOnReload;

    /**
     * A mutating call as it arrived, to run here or to send on.
     *
     * @param path the path to send on, made by {@link #path}
     */
    public record Call(String method, String path, String body, String authorization, String forwardedBy) {
    }

    /**
     * The path of a call to send on, from its decoded segments: each one percent-encoded whole
     * (all but RFC 3986's unreserved characters), so that a '/', '?', '#', '%' or '{' in a name
     * stays part of that name on the leader instead of naming another resource. A segment "." or
     * ".." would be removed by the leader's path normalisation (even encoded): nothing is named so.
     */
    static String path(String... segments) {
        StringBuilder path = new StringBuilder();
        for (String segment : segments) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new ApiException(404, "not_found", "no such resource");
            }
            path.append('/');
            for (byte b : segment.getBytes(StandardCharsets.UTF_8)) {
                if (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
                        || b == '-' || b == '.' || b == '_' || b == '~') {
                    path.append((char) b);
                } else {
                    path.append('%').append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
                }
            }
        }
        return path.toString();
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /**
     * Runs {@code local} on the leader with who asked: the caller's token name (read here, on the
     * request's thread, where the request scope is active) and the node that took the call.
     */
    public CompletionStage<Response> run(Call call, Function<Actor, CompletionStage<Response>> local) {
        String token = caller.token();
        Duration wait = config.raft().electionTimeout().plusSeconds(1);
        return leadership.leaderKnown(wait).handle((leader, e) -> leader).thenCompose(leader -> {
            if (leader == null) {
                throw new NoLeaderException("the cluster has no leader at the moment (no quorum, or an election is under way)");
            }
            if (leadership.isLeader()) {
                return local.apply(new Actor(token, tookTheCall(call))).thenApply(r -> withLeader(r, cluster.selfId()));
            }
            if (call.forwardedBy() != null) {
                // Forwarded once already: the sender thought this node led. Never forward twice.
                throw new NoLeaderException("leadership is moving; retry");
            }
            return cluster.adminUrlOf(leader, wait).handle((url, e) -> {
                if (url == null) {
                    throw new NoLeaderException("the leader " + leader + " has not published its admin address; retry");
                }
                return url;
            }).thenCompose(url -> forward(call, url, leader));
        });
    }

    /**
     * The follower that forwarded the call, when a member of the cluster says so; otherwise this
     * leader. The header is not proof (anyone who can reach the admin API can send it, with a
     * token): it names the node in the audit log, never grants anything.
     */
    private String tookTheCall(Call call) {
        String by = call.forwardedBy();
        return by != null && cluster.members().contains(by) ? by : cluster.selfId();
    }

    private CompletionStage<Response> forward(Call call, String adminUrl, String leader) {
        Invocation.Builder request = client().target(URI.create(adminUrl + call.path())).request(MediaType.APPLICATION_JSON)
                .header(FORWARDED_HEADER, cluster.selfId());
        if (call.authorization() != null) {
            request.header("Authorization", call.authorization());
        }
        Entity<String> entity = call.body() == null ? null : Entity.entity(call.body(), MediaType.APPLICATION_JSON);
        long timeoutMs = forwardTimeoutMs();
        return request.rx().method(call.method(), entity)
                .toCompletableFuture()
                .orTimeout(timeoutMs, TimeUnit.MILLISECONDS)
                .handle((response, e) -> {
                    if (e != null) {
                        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                        LOG.debugf("forwarding %s %s to %s failed: %s", call.method(), call.path(), adminUrl, cause.toString());
                        if (cause instanceof TimeoutException) {
                            throw new NoLeaderException("the leader " + leader + " did not answer in time; the change may or may not have been applied");
                        }
                        if (neverSent(cause)) {
                            throw new NoLeaderException("the leader " + leader + " cannot be reached at " + adminUrl);
                        }
                        // Connected, and then the connection broke: the leader may have committed the change before it went.
                        throw new NoLeaderException("the leader " + leader + " stopped answering; the change may or may not have been applied");
                    }
                    return copy(response, leader);
                });
    }

    /** True when no connection to the leader was made at all (refused, unreachable, connect timeout): nothing was sent. */
    static boolean neverSent(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof java.net.ConnectException || c instanceof java.net.NoRouteToHostException
                    || c instanceof java.net.UnknownHostException) {
                return true;
            }
        }
        return false;
    }

    private static Response copy(Response from, String leader) {
        String body = from.hasEntity() ? from.readEntity(String.class) : null;
        Response.ResponseBuilder to = Response.status(from.getStatus());
        for (String name : new String[]{"Content-Type", "Location", "Retry-After", "WWW-Authenticate", "Allow"}) {
            String value = from.getHeaderString(name);
            if (value != null) {
                to.header(name, value);
            }
        }
        String named = from.getHeaderString(LEADER_HEADER);
        to.header(LEADER_HEADER, named != null ? named : leader);
        if (body != null && !body.isEmpty()) {
            to.entity(body);
        }
        return to.build();
    }

    static Response withLeader(Response response, String leader) {
        return Response.fromResponse(response).header(LEADER_HEADER, leader).build();
    }

    private Client client() {
        Client c = client;
        if (c == null) {
            synchronized (this) {
                if (client == null) {
                    ClientBuilder builder = ClientBuilder.newBuilder();
                    // The leader's admin API over HTTPS is trusted by the cluster's CA, as its Raft port is.
                    // Quarkus's client takes no SSLContext: a trust store of the CAs in use, the client made anew when they change.
                    clusterTls.current().ifPresent(material -> {
                        builder.trustStore(trustStore(material.cas()));
                        if (!renewOnReload) {
                            renewOnReload = true;
                            clusterTls.onReload(m -> renew());
                        }
                    });
                    client = builder
                            .connectTimeout(2, TimeUnit.SECONDS)
                            .readTimeout(forwardTimeoutMs(), TimeUnit.MILLISECONDS)
                            .build();
                }
                c = client;
            }
        }
        return c;
    }

    private long forwardTimeoutMs() {
        return config.raft().electionTimeout().multipliedBy(3).plusSeconds(3).toMillis();
    }

    /** The next call makes a client with the new CAs; the old one is closed once its calls have had their time. */
    private synchronized void renew() {
        Client old = client;
        client = null;
        if (old != null) {
            CompletableFuture.delayedExecutor(forwardTimeoutMs() + 1000, TimeUnit.MILLISECONDS).execute(old::close);
        }
    }

    private static KeyStore trustStore(List<X509Certificate> cas) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < cas.size(); i++) {
                store.setCertificateEntry("ca-" + i, cas.get(i));
            }
            return store;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot hold the cluster's CA certificates", e);
        }
    }

    @PreDestroy
    synchronized void close() {
        if (client != null) {
            client.close();
        }
    }
}
