package dev.weldr.acme;

import dev.weldr.cluster.Leadership;
import dev.weldr.cluster.PoolHolder;
import dev.weldr.cluster.PoolService;
import dev.weldr.pool.AcmeChallenge;
import dev.weldr.pool.ManagedCertificate;
import dev.weldr.pool.Topology;
import dev.weldr.tls.TlsAlpnChallenges;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The challenges every node answers while the leader's orders are validated, from the replicated
 * state: whichever node the CA's request reaches (a follower, or the node the VIP just moved to)
 * has the same answers. Rebuilt on the applying thread when the managed certificates change and
 * published with one volatile write; the proxy's event loops only read it.
 */
@ApplicationScoped
public class AcmeChallenges {

    private static final Logger LOG = Logger.getLogger(AcmeChallenges.class);

    /** How long a challenge request waits for this node to catch up with the leader before it goes its usual way. */
    static final Duration CATCH_UP = Duration.ofSeconds(2);

    @Inject
    PoolHolder holder;
    @Inject
    PoolService pool;
    @Inject
    Leadership leadership;
    @Inject
    TlsAlpnChallenges tlsAlpn;

    private volatile Map<String, String> http01 = Map.of();
    private final Object reads = new Object();
    /** The read of the leader's commit index under way, and the one the requests that came during it wait for. */
    private CompletableFuture<Void> reading;
    private CompletableFuture<Void> queued;
    /** What the last tables were built from; only the applying thread touches it. */
    private Map<String, ManagedCertificate> built;

    void start(@Observes @Priority(6) StartupEvent event) {
        tlsAlpn.catchUpWith(this::catchUp);
        holder.subscribe(this::applied);
    }

    /** The key authorization to answer at {@code /.well-known/acme-challenge/{token}}, or null. */
    public String http01(String token) {
        return http01.get(token);
    }

    /**
     * For a token this node does not know: completes with its key authorization once this node
     * has applied everything the leader had committed when the call was made (a Raft ReadIndex),
     * or with null if it is still unknown then. The leader commits a challenge before it asks
     * the CA to validate, so a follower that lags by a heartbeat still answers. Null when there
     * is nothing to wait for (this node is the leader: it applied the challenge before it was
     * acknowledged). Reads are coalesced: one under way and one queued at most, however many
     * requests name unknown tokens, so a flood of them costs the leader two reads at a time.
     */
    public CompletableFuture<String> http01AfterCatchUp(String token) {
        CompletableFuture<Void> later = catchUp();
        return later == null ? null : later.handle((v, e) -> e == null ? http01(token) : null);
    }

    /**
     * Completes once this node has applied what the leader had committed when it was called;
     * null when there is nothing to wait for: on the leader, and on a node whose state manages no
     * certificate (a cluster without ACME, whose challenge requests are its backends' own, never
     * pays a read for them).
     */
    CompletableFuture<Void> catchUp() {
        if (leadership.isLeader() || holder.current().managed().isEmpty()) {
            return null;
        }
        synchronized (reads) {
            if (reading != null) {
                // The read under way may have started before this request's challenge was committed.
                if (queued == null) {
                    queued = new CompletableFuture<>();
                }
                return queued;
            }
            reading = new CompletableFuture<>();
            CompletableFuture<Void> started = reading;
            read(started);
            return started;
        }
    }

    /** Reads into {@code target}, which is {@code reading} from before the read starts (it may end at once, even here). */
    private void read(CompletableFuture<Void> target) {
        pool.consistent().toCompletableFuture().orTimeout(CATCH_UP.toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((t, e) -> readDone(target, e));
    }

    private void readDone(CompletableFuture<Void> done, Throwable failure) {
        CompletableFuture<Void> next;
        synchronized (reads) {
            next = queued;
            queued = null;
            reading = next;
        }
        if (failure != null) {
            done.completeExceptionally(failure);
        } else {
            done.complete(null);
        }
        if (next != null) {
            read(next);
        }
    }

    private synchronized void applied(Topology topology) {
        if (topology.managed() == built) {
            return;
        }
        Map<String, String> tokens = new HashMap<>();
        Map<String, byte[]> validations = new HashMap<>();
        for (ManagedCertificate m : topology.managed().values()) {
            for (AcmeChallenge c : m.challenges()) {
                if (c.type().equals(AcmeChallenge.HTTP_01)) {
                    tokens.put(c.token(), c.response());
                } else if (c.type().equals(AcmeChallenge.TLS_ALPN_01)) {
                    try {
                        validations.put(c.host(), Base64.getDecoder().decode(c.response()));
                    } catch (IllegalArgumentException e) {
                        LOG.errorf("certificate %s: the tls-alpn-01 challenge for %s is damaged and not answered", m.name(), c.host());
                    }
                }
            }
        }
        http01 = Map.copyOf(tokens);
        // Built here, before the change is acknowledged: the leader asks the CA to validate only
        // once it is, so its own node answers by then (a few tens of ms per host with OpenSSL).
        tlsAlpn.update(validations);
        built = topology.managed();
    }
}
