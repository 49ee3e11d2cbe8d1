package dev.weldr.raft;

import com.alipay.remoting.config.BoltServerOption;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.rpc.ProtobufMsgFactory;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import com.alipay.sofa.jraft.rpc.RpcRequests;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.rpc.impl.BoltRpcServer;
import com.alipay.sofa.jraft.rpc.impl.PingRequestProcessor;
import com.alipay.sofa.jraft.rpc.impl.core.AppendEntriesRequestProcessor;
import com.alipay.sofa.jraft.rpc.impl.core.GetFileRequestProcessor;
import com.alipay.sofa.jraft.rpc.impl.core.InstallSnapshotRequestProcessor;
import com.alipay.sofa.jraft.rpc.impl.core.ReadIndexRequestProcessor;
import com.alipay.sofa.jraft.rpc.impl.core.RequestVoteRequestProcessor;
import com.alipay.sofa.jraft.rpc.impl.core.TimeoutNowRequestProcessor;
import com.alipay.sofa.jraft.util.Endpoint;
import dev.weldr.tls.ClusterMaterial;

import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The Raft RPC server, built here rather than by {@code RaftRpcServerFactory}: the factory gives
 * bolt only the port, so it listens on every interface, and it also serves JRaft's CLI services
 * (reset, add, remove and change peers, transfer leadership, snapshot), which take no credential:
 * one {@code resetPeer} naming the group id, a hash of the peer list, leaves a node leaderless
 * for good. Membership and leadership change only through the admin API, which has the token.
 */
final class RaftListener {

    private RaftListener() {
    }

    /** A server on exactly {@code endpoint}'s address, answering only what members send each other. */
    static RpcServer create(Endpoint endpoint, Supplier<PeerId> self, Supplier<List<PeerId>> members) {
        return create(endpoint, self, members, null, null, null);
    }

    /**
     * The same with mutual TLS when {@code material} is given: every connection presents a
     * certificate the cluster's CA signed, and the requests that carry their sender's id (vote,
     * append, snapshot, timeout-now, read-index) are served only when that certificate names it.
     * GetFile and Ping name no sender: any member's certificate may ask. {@code gaps}, when given,
     * measures the silences between the leader's appends that passed that check.
     */
    static RpcServer create(Endpoint endpoint, Supplier<PeerId> self, Supplier<List<PeerId>> members, Supplier<ClusterMaterial> material,
                            RaftRefusals refusals, HeartbeatGaps gaps) {
        // Registers JRaft's protobuf messages with bolt's serializers (the factory's static initialiser did it).
        ProtobufMsgFactory.load();
        // manageConnection as JRaft's own factory sets it: replies go back on the connection a request came on.
        com.alipay.remoting.rpc.RpcServer bolt = new com.alipay.remoting.rpc.RpcServer(endpoint.getIp(), endpoint.getPort(), true);
        if (material != null) {
            bolt.option(BoltServerOption.EXTENDED_NETTY_CHANNEL_HANDLER, PeerTls.server(material, refusals));
        }
        RpcServer server = new BoltRpcServer(bolt);
        // A null executor: each processor runs on JRaft's default one, as the factory's defaults do.
        AppendEntriesRequestProcessor appendEntries = new AppendEntriesRequestProcessor(null);
        server.registerConnectionClosedEventListener(appendEntries);
        server.registerProcessor(SenderExecutors.bounded(
                checked(gaps == null ? appendEntries : gaps.watch(appendEntries), RpcRequests.AppendEntriesRequest::getServerId,
                        material, refusals), self, members));
        server.registerProcessor(new GetFileRequestProcessor(null));
        server.registerProcessor(checked(new InstallSnapshotRequestProcessor(null), RpcRequests.InstallSnapshotRequest::getServerId, material, refusals));
        server.registerProcessor(checked(new RequestVoteRequestProcessor(null), RpcRequests.RequestVoteRequest::getServerId, material, refusals));
        server.registerProcessor(new PingRequestProcessor(null));
        server.registerProcessor(checked(new TimeoutNowRequestProcessor(null), RpcRequests.TimeoutNowRequest::getServerId, material, refusals));
        server.registerProcessor(checked(new ReadIndexRequestProcessor(null), RpcRequests.ReadIndexRequest::getServerId, material, refusals));
        return server;
    }

    private static <T> RpcProcessor<T> checked(RpcProcessor<T> processor, Function<T, String> serverId,
                                               Supplier<ClusterMaterial> material, RaftRefusals refusals) {
        return material == null ? processor : new IdentityCheck<>(processor, serverId, refusals);
    }
}
