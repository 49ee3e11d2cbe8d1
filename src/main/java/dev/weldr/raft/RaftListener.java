package dev.weldr.raft;

import com.alipay.sofa.jraft.rpc.ProtobufMsgFactory;
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
    static RpcServer create(Endpoint endpoint) {
        // Registers JRaft's protobuf messages with bolt's serializers (the factory's static initialiser did it).
        ProtobufMsgFactory.load();
        // manageConnection as JRaft's own factory sets it: replies go back on the connection a request came on.
        RpcServer server = new BoltRpcServer(new com.alipay.remoting.rpc.RpcServer(endpoint.getIp(), endpoint.getPort(), true));
        // A null executor: each processor runs on JRaft's default one, as the factory's defaults do.
        AppendEntriesRequestProcessor appendEntries = new AppendEntriesRequestProcessor(null);
        server.registerConnectionClosedEventListener(appendEntries);
        server.registerProcessor(appendEntries);
        server.registerProcessor(new GetFileRequestProcessor(null));
        server.registerProcessor(new InstallSnapshotRequestProcessor(null));
        server.registerProcessor(new RequestVoteRequestProcessor(null));
        server.registerProcessor(new PingRequestProcessor(null));
        server.registerProcessor(new TimeoutNowRequestProcessor(null));
        server.registerProcessor(new ReadIndexRequestProcessor(null));
        return server;
    }
}
