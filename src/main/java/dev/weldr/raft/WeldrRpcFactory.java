package dev.weldr.raft;

import com.alipay.remoting.config.BoltClientOption;
import com.alipay.sofa.jraft.rpc.RpcClient;
import com.alipay.sofa.jraft.rpc.impl.BoltRaftRpcFactory;
import com.alipay.sofa.jraft.rpc.impl.BoltRpcClient;
import com.alipay.sofa.jraft.util.SPI;
import dev.weldr.tls.ClusterMaterial;

import java.util.function.Supplier;

/**
 * JRaft's bolt RPC, with this node's cluster TLS on the connections it opens to peers. JRaft
 * makes its clients itself, through this SPI (the highest priority wins over its own factory);
 * there is one Raft node per process, so the material comes from a static that {@link RaftNode}
 * sets before the node starts. Unset (no cluster TLS): bolt's plain connections, as before.
 */
@SPI(name = "weldr", priority = 100)
public class WeldrRpcFactory extends BoltRaftRpcFactory {

    private static volatile Supplier<ClusterMaterial> material = () -> null;

    static void use(Supplier<ClusterMaterial> current) {
        material = current == null ? () -> null : current;
    }

    @Override
    public RpcClient createRpcClient(ConfigHelper<RpcClient> helper) {
        com.alipay.remoting.rpc.RpcClient bolt = new com.alipay.remoting.rpc.RpcClient();
        // Read at each connection, not now: the client may be made before the material is loaded.
        bolt.option(BoltClientOption.EXTENDED_NETTY_CHANNEL_HANDLER, PeerTls.client(() -> material.get()));
        RpcClient client = new BoltRpcClient(bolt);
        if (helper != null) {
            helper.config(client);
        }
        return client;
    }
}
