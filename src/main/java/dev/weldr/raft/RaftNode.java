package dev.weldr.raft;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.RaftGroupService;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.closure.ReadIndexClosure;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.core.NodeImpl;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.entity.Task;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.option.NodeOptions;
import com.alipay.sofa.jraft.rpc.RpcServer;
import dev.weldr.cluster.ClusterTls;
import dev.weldr.cluster.JoinClient;
import dev.weldr.cluster.Leadership;
import dev.weldr.cluster.PoolHolder;
import dev.weldr.config.FreePort;
import dev.weldr.config.ListenFailure;
import dev.weldr.config.WeldrConfig;
import dev.weldr.pool.AuditEntry;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.PoolCommand;
import dev.weldr.tls.ClusterMaterial;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** This node's SOFAJRaft member: its lifecycle, and the one way commands and membership changes enter the log. */
@ApplicationScoped
public class RaftNode {

    private static final Logger LOG = Logger.getLogger(RaftNode.class);

    @Inject
    WeldrConfig config;
    @Inject
    PoolHolder holder;
    @Inject
    Leadership leadership;
    @Inject
    JoinClient joinClient;
    @Inject
    ClusterTls clusterTls;
    @Inject
    MeterRegistry registry;

    private RaftGroupService group;
    private volatile Node node;
    private PeerId self;
    private String clusterId;
    private boolean joining;

    void start(@Observes @Priority(10) StartupEvent event) {
        VmSignals.initialiseNodeClass();
        WeldrConfig.Raft raft = config.raft();
        int port = raft.port() == 0 ? FreePort.pick(raft.host()) : raft.port();
        self = new PeerId(raft.host(), port);
        Path dataDir = Path.of(raft.dataDir()).toAbsolutePath().normalize();
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("weldr.raft.data-dir: cannot create " + dataDir, e);
        }
        List<String> peers = raft.peers().orElse(List.of());
        Optional<Supplier<String>> joined = raft.join().map(url -> () -> joinClient.clusterId(url));
        boolean fresh = !Files.exists(dataDir.resolve(ClusterIdentity.FILE));
        Optional<Supplier<Optional<String>>> check = raft.join().map(url -> () -> joinClient.clusterIdIfAnswering(url));
        clusterId = ClusterIdentity.resolve(dataDir, peers, self.toString(), joined, check);
        // A node joining with an empty data directory starts with no configuration at all: it
        // never elects itself, and waits for the leader to add it and send it the log.
        joining = fresh && raft.join().isPresent();

        NodeOptions options = new NodeOptions();
        int electionMs = (int) raft.electionTimeout().toMillis();
        options.setElectionTimeoutMs(electionMs);
        // JRaft's election timer is not reset by heartbeats: it fires every timeout plus a random
        // 0..maxElectionDelay (JRaft's default 1 s) and then looks whether the leader was heard
        // within a timeout. A follower so notices a dead leader between one timeout and one timeout
        // plus a period later; with four followers the first one is about a fifth of a period late,
        // so the delay barely moves detection. What it does is space out the candidates' retries
        // after a split vote (3 of 20 fail-overs in the 5-node lab): a quarter of the timeout.
        options.getRaftOptions().setMaxElectionDelayMs(Math.max(50, electionMs / 4));
        // JRaft's own timers are hashed wheels ticking every millisecond, four threads waking 1,000
        // times a second each (about 4 % of a core, idle or not); its shared timers are scheduled
        // executors that wake only when something is due.
        options.setSharedElectionTimer(true);
        options.setSharedVoteTimer(true);
        options.setSharedStepDownTimer(true);
        options.setSharedSnapshotTimer(true);
        options.setSnapshotIntervalSecs((int) Math.max(1, raft.snapshotInterval().toSeconds()));
        options.setLogUri(dataDir.resolve("log").toString());
        options.setRaftMetaUri(dataDir.resolve("meta").toString());
        options.setSnapshotUri(dataDir.resolve("snapshot").toString());
        options.setInitialConf(joining ? new Configuration() : initialConf(peers));
        options.setFsm(new PoolStateMachine(holder, leadership, self.toString()));

        RpcServer rpcServer;
        HeartbeatGaps gaps = new HeartbeatGaps(raft.electionTimeout(), this::peers, registry, System::nanoTime);
        if (clusterTls.enabled()) {
            Supplier<ClusterMaterial> material = () -> clusterTls.current().orElse(null);
            WeldrRpcFactory.use(material);
            rpcServer = RaftListener.create(self.getEndpoint(), this::self, this::peers, material, new RaftRefusals(registry), gaps);
        } else {
            rpcServer = RaftListener.create(self.getEndpoint(), this::self, this::peers, null, null, gaps);
        }
        group = new RaftGroupService(clusterId, self, options, rpcServer);
        try {
            node = group.start();
        } catch (RuntimeException e) {
            throw ListenFailure.of("Raft (weldr.raft.port)", raft.host(), port, e);
        }
        if (node == null) {
            throw new IllegalStateException("the Raft node on " + self + " did not start");
        }
        LOG.infof("Raft node %s started in cluster %s, data in %s%s", self, clusterId, dataDir,
                joining ? "; joining through " + raft.join().get() : "");
    }

    void stop(@Observes @Priority(100) ShutdownEvent event) {
        if (group != null) {
            group.shutdown();
            try {
                group.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            group = null;
            node = null;
        }
    }

    private Configuration initialConf(List<String> peers) {
        Configuration conf = new Configuration();
        if (peers.isEmpty()) {
            conf.addPeer(self);
            return conf;
        }
        for (String peer : peers) {
            conf.addPeer(PeerId.parsePeer(peer.trim()));
        }
        return conf;
    }

    /** Proposes a command; the future completes after commit and apply on this node. */
    public CompletableFuture<Outcome> apply(PoolCommand command) {
        return apply(command, null);
    }

    /** Proposes a command with its audit record, in one log entry, so that both commit or neither does. */
    public CompletableFuture<Outcome> apply(PoolCommand command, AuditEntry audit) {
        Node n = node;
        PoolClosure closure = new PoolClosure(command, audit);
        if (n == null) {
            closure.run(new Status(RaftError.EPERM, "the Raft node is not running"));
            return closure.future;
        }
        n.apply(new Task(ByteBuffer.wrap(CommandCodec.encode(command, audit)), closure));
        return closure.future;
    }

    /** Completes once this node has applied everything committed when the call was made (ReadIndex). */
    public CompletableFuture<Long> readIndex() {
        CompletableFuture<Long> future = new CompletableFuture<>();
        Node n = node;
        if (n == null) {
            future.completeExceptionally(new RaftUnavailableException(new Status(RaftError.EPERM, "the Raft node is not running")));
            return future;
        }
        n.readIndex(new byte[0], new ReadIndexClosure() {
            @Override
            public void run(Status status, long index, byte[] reqCtx) {
                if (status.isOk()) {
                    future.complete(index);
                } else {
                    future.completeExceptionally(new RaftUnavailableException(status));
                }
            }
        });
        return future;
    }

    public CompletableFuture<Void> addPeer(PeerId peer) {
        StatusFuture done = new StatusFuture();
        withNode(done, n -> n.addPeer(peer, done));
        return done.future;
    }

    public CompletableFuture<Void> removePeer(PeerId peer) {
        StatusFuture done = new StatusFuture();
        withNode(done, n -> n.removePeer(peer, done));
        return done.future;
    }

    /** Asks the leader to hand over to {@code peer} ({@link PeerId#ANY_PEER} for the most up-to-date one). */
    public Status transferLeadership(PeerId peer) {
        Node n = node;
        return n == null ? new Status(RaftError.EPERM, "the Raft node is not running") : n.transferLeadershipTo(peer);
    }

    private void withNode(StatusFuture done, java.util.function.Consumer<Node> action) {
        Node n = node;
        if (n == null) {
            done.run(new Status(RaftError.EPERM, "the Raft node is not running"));
        } else {
            action.accept(n);
        }
    }

    /**
     * The voting members in the newest configuration this node's log holds. ({@code Node.listPeers}
     * answers only on the leader; {@code NodeImpl.getCurrentConf} answers everywhere.)
     */
    public List<PeerId> peers() {
        Node n = node;
        if (n instanceof NodeImpl impl) {
            return impl.getCurrentConf().listPeers();
        }
        return n == null ? List.of() : n.listPeers();
    }

    /** On the leader, the members it heard from within the lease; elsewhere, empty. */
    public List<PeerId> alivePeers() {
        Node n = node;
        return n != null && n.isLeader() ? n.listAlivePeers() : List.of();
    }

    /** {@code System.nanoTime()} when a majority last confirmed this node's leadership (see {@link #leaseHeld}). */
    private volatile long confirmed;

    /**
     * Starts a round that confirms this node's leadership: a ReadIndex, for which the leader sends
     * a fresh heartbeat to every follower and succeeds once a majority answered. The lease starts
     * when the round started: every follower that answered heard from this leader after that.
     */
    public void renewLease() {
        Node n = node;
        if (n == null || !n.isLeader()) {
            return;
        }
        long start = System.nanoTime();
        n.readIndex(new byte[0], new ReadIndexClosure() {
            @Override
            public void run(Status status, long index, byte[] reqCtx) {
                if (status.isOk() && start - confirmed > 0) {
                    confirmed = start;
                }
            }
        });
    }

    /** A leader's lease starts with its leadership: a majority has just voted for it. */
    public void leaseStartsNow() {
        confirmed = System.nanoTime();
    }

    /**
     * True while this node leads and a majority confirmed it less than {@code lease} ago. A
     * follower grants no vote until a whole election timeout has passed since it last heard from
     * its leader, and a new leader needs a majority, which shares a member with the majority that
     * confirmed this one: so no other node can be elected for an election timeout after the round
     * started, and a lease shorter than that leaves the rest of the timeout to spare.
     */
    public boolean leaseHeld(java.time.Duration lease) {
        Node n = node;
        return n != null && n.isLeader() && System.nanoTime() - confirmed < lease.toNanos();
    }

    public boolean isLeader() {
        Node n = node;
        return n != null && n.isLeader();
    }

    /** This node's Raft id, {@code host:port}. */
    public String selfId() {
        return self == null ? null : self.toString();
    }

    public PeerId self() {
        return self;
    }

    public String clusterId() {
        return clusterId;
    }

    /** True when this node started empty with {@code weldr.raft.join} and must ask to be added. */
    public boolean joining() {
        return joining;
    }
}
