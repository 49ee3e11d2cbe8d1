package dev.weldr.raft;

import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.rpc.Connection;
import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import com.alipay.sofa.jraft.util.RpcFactoryHelper;
import dev.weldr.tls.PeerNames;

import java.security.cert.X509Certificate;
import java.util.function.Function;

/**
 * Serves a Raft request only when the certificate of the connection it came on names the host
 * of the node id the request claims ({@code serverId}): a certificate the cluster's CA signed
 * for one node cannot vote or append as another. Otherwise JRaft's error answer, {@code EPERM}.
 */
final class IdentityCheck<T> extends DelegatingProcessor<T> {

    /** The id last found named by this connection's certificate: a connection carries one node's requests. */
    private static final String VERIFIED = "weldr.peer.verified";

    private final Function<T, String> serverId;
    private final RaftRefusals refusals;

    IdentityCheck(RpcProcessor<T> delegate, Function<T, String> serverId, RaftRefusals refusals) {
        super(delegate);
        this.serverId = serverId;
        this.refusals = refusals;
    }

    @Override
    public void handleRequest(RpcContext ctx, T request) {
        String id = serverId.apply(request);
        Connection connection = ctx.getConnection();
        if (connection != null && id.equals(connection.getAttribute(VERIFIED))) {
            delegate.handleRequest(ctx, request);
            return;
        }
        Object certificate = connection == null ? null : connection.getAttribute(PeerTls.PEER_CERTIFICATE);
        PeerId peer = new PeerId();
        String why;
        if (!(certificate instanceof X509Certificate leaf)) {
            why = "presented no certificate";
        } else if (!peer.parse(id)) {
            why = "claims the id '" + printable(id) + "', which is not host:port";
        } else if (!PeerNames.covers(leaf, peer.getIp())) {
            why = "claims to be " + printable(id) + " but its certificate names " + PeerNames.of(leaf);
        } else {
            connection.setAttribute(VERIFIED, id);
            delegate.handleRequest(ctx, request);
            return;
        }
        refusals.refused(RaftRefusals.Reason.IDENTITY, ctx.getRemoteAddress(), why);
        ctx.sendResponse(RpcFactoryHelper.responseFactory().newResponse(null, RaftError.EPERM, "%s",
                "refused: the connection's certificate does not name the node id " + printable(id)));
    }

    /** The claimed id as a log line or an answer may quote it: a peer chooses it, line breaks and all. */
    static String printable(String id) {
        StringBuilder out = new StringBuilder(Math.min(id.length(), 100));
        for (int i = 0; i < id.length() && i < 100; i++) {
            char c = id.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return id.length() > 100 ? out.append("...").toString() : out.toString();
    }
}
