package dev.weldr.cluster;

import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.error.RaftError;
import dev.weldr.config.WeldrConfig;
import dev.weldr.pool.Actor;
import dev.weldr.pool.PoolCommand;
import dev.weldr.raft.RaftNode;
import dev.weldr.raft.RaftUnavailableException;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.vertx.http.HttpServer;
import io.quarkus.vertx.http.HttpServerStart;
import io.quarkus.vertx.http.HttpsServerStart;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Membership of the Raft group at run time, and the bookkeeping that lets any node reach the
 * leader: the leader records its admin URL in the replicated state when it takes office, and a
 * node started with {@code weldr.raft.join} asks to be added once it runs.
 */
@ApplicationScoped
public class ClusterService {

    private static final Logger LOG = Logger.getLogger(ClusterService.class);

    @Inject
    RaftNode raft;
    @Inject
    Leadership leadership;
    @Inject
    PoolHolder holder;
    @Inject
    WeldrConfig config;
    @Inject
    JoinClient joinClient;
    @Inject
    PoolService pool;
    @Inject
    HttpServer httpServer;

    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "weldr-cluster");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean running;
    private volatile boolean adminListening;

    void started(@Observes @Priority(50) StartupEvent event) {
        running = true;
        leadership.subscribe(state -> {
            if (state.role() == Leadership.Role.LEADER) {
                worker.execute(this::registerSelf);
            }
        });
        worker.execute(this::registerSelf);
        if (raft.joining()) {
            String url = config.raft().join().orElseThrow();
            Thread joiner = new Thread(() -> joinClient.requestMembership(url, raft.selfId(),
                    () -> running && !members().contains(raft.selfId())), "weldr-join");
            joiner.setDaemon(true);
            joiner.start();
        }
    }

    void stopped(@Observes @Priority(5) ShutdownEvent event) {
        running = false;
        worker.shutdownNow();
    }

    public String clusterId() {
        return raft.clusterId();
    }

    public String selfId() {
        return raft.selfId();
    }

    /** The admin URL a node recorded when it was leader, or null. */
    public String adminUrlOf(String nodeId) {
        return holder.current().nodes().get(nodeId);
    }

    /** Completes with a node's admin URL once the replicated state has it (a new leader publishes its own at once). */
    public CompletableFuture<String> adminUrlOf(String nodeId, Duration within) {
        return holder.await(p -> p.nodes().containsKey(nodeId), within).thenApply(p -> p.nodes().get(nodeId));
    }

    /**
     * Where the other nodes reach this node's admin API: {@code weldr.admin.advertised-url}, else
     * the Raft host and the port the admin listener bound, over HTTPS when it speaks TLS (also
     * when it speaks both: the other nodes then send tokens encrypted).
     */
    public String advertisedUrl() {
        return config.admin().advertisedUrl().orElseGet(() -> {
            int securePort = httpServer.getSecurePort();
            return securePort > 0 ? "https://" + config.raft().host() + ":" + securePort
                    : "http://" + config.raft().host() + ":" + httpServer.getPort();
        });
    }

    /**
     * The admin listener opens after start-up's observers have run (a leader may already have been
     * elected): only then are its scheme and bound port known, and worth publishing.
     */
    void adminListening(@ObservesAsync HttpServerStart event) {
        adminListening = true;
        worker.execute(this::registerSelf);
    }

    void adminListening(@ObservesAsync HttpsServerStart event) {
        adminListening = true;
        worker.execute(this::registerSelf);
    }

    private void registerSelf() {
        if (!running || !adminListening || !leadership.isLeader()) {
            return;
        }
        String self = raft.selfId();
        String url = advertisedUrl();
        if (url.equals(adminUrlOf(self))) {
            return;
        }
        raft.apply(new PoolCommand.RegisterNode(self, url)).whenComplete((o, e) -> {
            if (e == null) {
                LOG.infof("leader %s serves its admin API at %s", self, url);
            } else {
                LOG.debugf("registering %s failed: %s", self, e.getMessage());
            }
        });
    }

    /** The voting members, as this node's log has them. */
    public List<String> members() {
        return raft.peers().stream().map(PeerId::toString).toList();
    }

    /**
     * Adds a voting member. A configuration change is not a pool command: its audit record is
     * committed first, and the change is made once the record is (see {@link PoolService#record}).
     */
    public CompletableFuture<Void> addPeer(String peer, Actor actor) {
        PeerId id = parse(peer);
        if (members().contains(id.toString())) {
            throw new ClusterException(ClusterException.Kind.ALREADY_MEMBER, id + " is already a member of the cluster");
        }
        return pool.record(actor, "add-member", id.toString(), "asked to add member " + id).toCompletableFuture()
                .thenCompose(recorded -> raft.addPeer(id)).exceptionallyCompose(e -> failed(e, id));
    }

    public CompletableFuture<Void> removePeer(String peer, Actor actor) {
        PeerId id = parse(peer);
        if (!members().contains(id.toString())) {
            throw new ClusterException(ClusterException.Kind.NOT_MEMBER, id + " is not a member of the cluster");
        }
        return pool.record(actor, "remove-member", id.toString(), "asked to remove member " + id).toCompletableFuture()
                .thenCompose(recorded -> raft.removePeer(id)).exceptionallyCompose(e -> failed(e, id));
    }

    /** Hands leadership to {@code peer} and completes once it holds it; recorded in the audit log first, like membership. */
    public CompletableFuture<String> transferLeadership(String peer, Duration within, Actor actor) {
        PeerId id = parse(peer);
        if (!members().contains(id.toString())) {
            throw new ClusterException(ClusterException.Kind.NOT_MEMBER, id + " is not a member of the cluster");
        }
        if (id.toString().equals(raft.selfId()) && leadership.isLeader()) {
            return CompletableFuture.completedFuture(id.toString());
        }
        return pool.record(actor, "transfer-leadership", id.toString(), "asked to hand leadership from " + raft.selfId() + " to " + id)
                .toCompletableFuture().thenCompose(recorded -> moveLeadership(id, within));
    }

    private CompletableFuture<String> moveLeadership(PeerId id, Duration within) {
        Status status = raft.transferLeadership(id);
        if (!status.isOk()) {
            return CompletableFuture.failedFuture(status.getRaftError() == RaftError.EPERM
                    ? new NoLeaderException("this node stopped being the leader")
                    : new ClusterException(ClusterException.Kind.BUSY, "leadership cannot move now: " + status.getErrorMsg()));
        }
        CompletableFuture<String> moved = new CompletableFuture<>();
        long deadline = System.nanoTime() + within.toNanos();
        worker.execute(() -> {
            while (System.nanoTime() < deadline) {
                if (id.toString().equals(leadership.leaderId())) {
                    moved.complete(id.toString());
                    return;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            moved.completeExceptionally(new ClusterException(ClusterException.Kind.NOT_CAUGHT_UP,
                    id + " did not take over within " + within.toMillis() + " ms"));
        });
        return moved;
    }

    private static PeerId parse(String peer) {
        PeerId id = peer == null ? null : PeerId.parsePeer(peer.trim());
        if (id == null || id.getIp() == null || id.getPort() <= 0 || id.getPort() > 65535 || id.isEmpty()) {
            throw new ClusterException(ClusterException.Kind.BAD_PEER, "peer must be host:port, the Raft address of a weldr node");
        }
        return new PeerId(id.getIp(), id.getPort());
    }

    private static <T> CompletableFuture<T> failed(Throwable e, PeerId peer) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof RaftUnavailableException r) {
            RaftError error = r.error();
            if (error == RaftError.ECATCHUP) {
                return CompletableFuture.failedFuture(new ClusterException(ClusterException.Kind.NOT_CAUGHT_UP,
                        peer + " did not catch up with the leader: is it running, reachable, and started with weldr.raft.join?"));
            }
            if (error == RaftError.EBUSY) {
                return CompletableFuture.failedFuture(new ClusterException(ClusterException.Kind.BUSY,
                        "another membership change is under way; retry"));
            }
            return CompletableFuture.failedFuture(new NoLeaderException("the change was not committed: " + r.getMessage()));
        }
        return CompletableFuture.failedFuture(cause);
    }
}
