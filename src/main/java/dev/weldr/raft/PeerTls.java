package dev.weldr.raft;

import com.alipay.remoting.Connection;
import com.alipay.remoting.ExtendedNettyChannelHandler;
import dev.weldr.tls.ClusterMaterial;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import org.jboss.logging.Logger;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Mutual TLS for bolt's channels, with the cluster material in use when each channel opens
 * (so a reload reaches new connections without a restart), instead of bolt's own TLS, which
 * reads a keystore file named in system properties once. Bolt puts the handlers of
 * {@code EXTENDED_NETTY_CHANNEL_HANDLER} first in every channel's pipeline and asks for them
 * anew for each channel, so each gets its own {@link SslHandler}. With no material, no handler:
 * the channel is bolt's plain one, as without cluster TLS.
 */
public final class PeerTls implements ExtendedNettyChannelHandler {

    /** The bolt connection attribute that holds the peer's certificate once its handshake completed. */
    public static final String PEER_CERTIFICATE = "weldr.peer.certificate";

    private static final Logger LOG = Logger.getLogger(PeerTls.class);

    private final Supplier<ClusterMaterial> material;
    private final boolean server;
    private final RaftRefusals refusals;

    private PeerTls(Supplier<ClusterMaterial> material, boolean server, RaftRefusals refusals) {
        this.material = material;
        this.server = server;
        this.refusals = refusals;
    }

    /** The Raft port's: refused handshakes are counted in {@code refusals}. */
    static PeerTls server(Supplier<ClusterMaterial> material, RaftRefusals refusals) {
        return new PeerTls(material, true, refusals);
    }

    /** For connections this node opens to its peers. */
    static PeerTls client(Supplier<ClusterMaterial> material) {
        return new PeerTls(material, false, null);
    }

    @Override
    public List<ChannelHandler> frontChannelHandlers() {
        ClusterMaterial m = material.get();
        if (m == null) {
            return null;
        }
        if (server) {
            SslHandler ssl = m.server().newHandler(io.netty.buffer.ByteBufAllocator.DEFAULT);
            ssl.setHandshakeTimeoutMillis(m.handshakeTimeoutMs());
            return List.of(ssl, new PeerCheck(refusals));
        }
        return List.of(new ClientStart(m));
    }

    @Override
    public List<ChannelHandler> backChannelHandlers() {
        return null;
    }

    /** Keeps the peer's certificate on bolt's connection, for {@link IdentityCheck}; counts refused handshakes. */
    static final class PeerCheck extends ChannelInboundHandlerAdapter {

        private final RaftRefusals refusals;

        PeerCheck(RaftRefusals refusals) {
            this.refusals = refusals;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (event instanceof SslHandshakeCompletionEvent done) {
                if (done.isSuccess()) {
                    peerCertificate(ctx);
                } else {
                    refusals.refused(RaftRefusals.Reason.HANDSHAKE, String.valueOf(ctx.channel().remoteAddress()), describe(done.cause()));
                }
            }
            super.userEventTriggered(ctx, event);
        }

        private static void peerCertificate(ChannelHandlerContext ctx) {
            Connection connection = ctx.channel().attr(Connection.CONNECTION).get();
            SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            if (connection == null || ssl == null) {
                return;
            }
            try {
                Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
                if (chain.length > 0 && chain[0] instanceof X509Certificate leaf) {
                    connection.setAttribute(PEER_CERTIFICATE, leaf);
                }
            } catch (SSLPeerUnverifiedException e) {
                // No certificate: the identity check refuses every request on this connection.
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            if (ssl != null && !ssl.handshakeFuture().isSuccess()) {
                // The refusal is counted and logged once; bolt would log the cause again with a stack trace.
                ctx.close();
                return;
            }
            ctx.fireExceptionCaught(cause);
        }
    }

    /**
     * Adds the {@link SslHandler} when the channel connects, the first moment the peer's host is
     * known: the handshake checks that the peer's certificate names it. A failed handshake is
     * logged (at most one line every ten seconds): it is why a node cannot reach a peer.
     */
    static final class ClientStart extends ChannelOutboundHandlerAdapter {

        private static final AtomicLong LAST_LINE = new AtomicLong(System.nanoTime() - TimeUnit.SECONDS.toNanos(10));

        private final ClusterMaterial material;

        ClientStart(ClusterMaterial material) {
            this.material = material;
        }

        @Override
        public void connect(ChannelHandlerContext ctx, SocketAddress remote, SocketAddress local, ChannelPromise promise) throws Exception {
            InetSocketAddress peer = (InetSocketAddress) remote;
            SslHandler ssl = material.client().newHandler(ctx.alloc(), peer.getHostString(), peer.getPort());
            ssl.setHandshakeTimeoutMillis(material.handshakeTimeoutMs());
            ctx.pipeline().addAfter(ctx.name(), null, ssl);
            ssl.handshakeFuture().addListener(done -> {
                long now = System.nanoTime();
                long last = LAST_LINE.get();
                // A peer that could not be reached at all: JRaft says so itself.
                if (!done.isSuccess() && promise.isSuccess()
                        && now - last >= TimeUnit.SECONDS.toNanos(10) && LAST_LINE.compareAndSet(last, now)) {
                    LOG.warnf("Raft: TLS handshake with peer %s failed: %s", remote, describe(done.cause()));
                }
            });
            super.connect(ctx, remote, local, promise);
        }
    }

    /** The innermost cause's message: "no certificate", "PKIX path building failed", the name mismatch. */
    static String describe(Throwable failure) {
        Throwable c = failure;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        String m = c.getMessage();
        return c.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
