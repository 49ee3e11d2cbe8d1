package dev.weldr.raft;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.RaftGroupService;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.entity.Task;
import com.alipay.sofa.jraft.option.NodeOptions;
import com.alipay.sofa.jraft.rpc.RaftRpcServerFactory;
import com.alipay.sofa.jraft.rpc.RpcServer;
import dev.weldr.cluster.Leadership;
import dev.weldr.cluster.PoolHolder;
import dev.weldr.config.FreePort;
import dev.weldr.config.WeldrConfig;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.PoolCommand;
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
import java.util.concurrent.CompletableFuture;

/** This node's SOFAJRaft member: its lifecycle, and the one way commands enter the log. */
@ApplicationScoped
public class RaftNode {

    public static final String GROUP = "weldr";
    private static final Logger LOG = Logger.getLogger(RaftNode.class);

    @Inject
    WeldrConfig config;
    @Inject
    PoolHolder holder;
    @Inject
    Leadership leadership;

    private RaftGroupService group;
    private volatile Node node;
    private PeerId self;

    void start(@Observes @Priority(10) StartupEvent event) {
        WeldrConfig.Raft raft = config.raft();
        int port = raft.port() == 0 ? FreePort.pick(raft.host()) : raft.port();
        self = new PeerId(raft.host(), port);
        Path dataDir = Path.of(raft.dataDir()).toAbsolutePath().normalize();
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("weldr.raft.data-dir: cannot create " + dataDir, e);
        }

        NodeOptions options = new NodeOptions();
        options.setElectionTimeoutMs((int) raft.electionTimeout().toMillis());
        options.setSnapshotIntervalSecs((int) Math.max(1, raft.snapshotInterval().toSeconds()));
        options.setLogUri(dataDir.resolve("log").toString());
        options.setRaftMetaUri(dataDir.resolve("meta").toString());
        options.setSnapshotUri(dataDir.resolve("snapshot").toString());
        options.setInitialConf(initialConf(raft.peers().orElse(List.of())));
        options.setFsm(new PoolStateMachine(holder, leadership, self.toString()));

        RpcServer rpcServer = RaftRpcServerFactory.createRaftRpcServer(self.getEndpoint());
        group = new RaftGroupService(GROUP, self, options, rpcServer);
        node = group.start();
        if (node == null) {
            throw new IllegalStateException("the Raft node on " + self + " did not start");
        }
        LOG.infof("Raft node %s started, data in %s", self, dataDir);
    }

    void stop(@Observes ShutdownEvent event) {
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
            PeerId id = PeerId.parsePeer(peer.trim());
            if (id == null) {
                throw new IllegalArgumentException("weldr.raft.peers: '" + peer + "' is not host:port");
            }
            conf.addPeer(id);
        }
        return conf;
    }

    /** Proposes a command; the future completes after commit and apply on this node. */
    public CompletableFuture<Outcome> apply(PoolCommand command) {
        Node n = node;
        PoolClosure closure = new PoolClosure(command);
        if (n == null) {
            closure.run(new com.alipay.sofa.jraft.Status(com.alipay.sofa.jraft.error.RaftError.EPERM, "the Raft node is not running"));
            return closure.future;
        }
        Task task = new Task(ByteBuffer.wrap(CommandCodec.encode(command)), closure);
        n.apply(task);
        return closure.future;
    }

    /** This node's Raft id, {@code host:port}. */
    public String selfId() {
        return self == null ? null : self.toString();
    }

    public Node node() {
        return node;
    }
}
