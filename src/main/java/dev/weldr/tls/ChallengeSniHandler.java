package dev.weldr.tls;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * Netty's {@link SniHandler} over the {@link CertificateStore}, which also answers ACME
 * TLS-ALPN-01: a ClientHello that offers ALPN {@code acme-tls/1} for a host with a pending
 * challenge gets that challenge's context ({@link TlsAlpnChallenges}); every other one gets what
 * the store maps its server name to, as a plain {@code SniHandler} would. A client that offers
 * {@code acme-tls/1} for a host with no challenge is one of those: it gets the host's certificate
 * (or the refusal) and no protocol in ALPN, so a CA's validation of that host fails, as it should:
 * there is nothing to prove. Netty reads the server name (so the {@code SniCompletionEvent} names
 * the host that decided); this class reads the ALPN extension of the same ClientHello.
 */
public final class ChallengeSniHandler extends SniHandler {

    private static final int ALPN = 16;
    private static final byte[] ACME_TLS_1 = TlsAlpnChallenges.ACME_TLS_1.getBytes(StandardCharsets.US_ASCII);

    private final TlsAlpnChallenges challenges;
    private boolean offersAcme;
    private boolean answering;

    public ChallengeSniHandler(CertificateStore certificates, TlsAlpnChallenges challenges, int maxClientHello,
                               long handshakeTimeoutMs) {
        super(certificates, maxClientHello, handshakeTimeoutMs);
        this.challenges = challenges;
    }

    @Override
    protected Future<SslContext> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) throws Exception {
        offersAcme = clientHello != null && offers(clientHello, ACME_TLS_1);
        return super.lookup(ctx, clientHello);
    }

    @Override
    protected Future<SslContext> lookup(ChannelHandlerContext ctx, String hostname) throws Exception {
        SslContext challenge = offersAcme ? challenges.context(hostname) : null;
        if (challenge != null) {
            answering = true;
            return ctx.executor().newSucceededFuture(challenge);
        }
        CompletableFuture<Void> later = offersAcme && hostname != null ? challenges.catchUp() : null;
        if (later == null) {
            return super.lookup(ctx, hostname);
        }
        // A validation this node has no challenge for: a follower may lag the leader that committed
        // it by a heartbeat. It looks again once caught up (the handshake timeout still runs).
        Promise<SslContext> answer = ctx.executor().newPromise();
        later.whenComplete((v, e) -> ctx.executor().execute(() -> {
            SslContext c = challenges.context(hostname);
            if (c != null) {
                answering = true;
                answer.trySuccess(c);
                return;
            }
            try {
                ChallengeSniHandler.super.lookup(ctx, hostname).addListener(f -> {
                    if (f.isSuccess()) {
                        answer.trySuccess((SslContext) f.getNow());
                    } else {
                        answer.tryFailure(f.cause());
                    }
                });
            } catch (Exception failure) {
                answer.tryFailure(failure);
            }
        }));
        return answer;
    }

    @Override
    protected void replaceHandler(ChannelHandlerContext ctx, String hostname, SslContext context) throws Exception {
        if (answering) {
            // Right behind the SslHandler that takes this handler's place, before anything reads what it decrypts.
            ctx.pipeline().addAfter(ctx.name(), null, new Validation());
        }
        super.replaceHandler(ctx, hostname, context);
    }

    /**
     * Whether the ClientHello's ALPN extension lists {@code protocol}. {@code hello} is the
     * handshake message's body, from {@code legacy_version} on, at most the listener's ClientHello
     * limit: one pass over it, no copy. Anything malformed on the way (a length past its end, an
     * empty protocol name, a list whose length is not its extension's) reads as "not offered":
     * the connection then gets the usual certificate, and the TLS engine, which reads the whole
     * ClientHello again, refuses it.
     */
    static boolean offers(ByteBuf hello, byte[] protocol) {
        int end = hello.writerIndex();
        // legacy_version, random
        int i = hello.readerIndex() + 2 + 32;
        if (i + 1 > end) {
            return false;
        }
        // legacy_session_id
        i += 1 + hello.getUnsignedByte(i);
        if (i + 2 > end) {
            return false;
        }
        // cipher_suites
        i += 2 + hello.getUnsignedShort(i);
        if (i + 1 > end) {
            return false;
        }
        // legacy_compression_methods
        i += 1 + hello.getUnsignedByte(i);
        if (i + 2 > end) {
            return false;
        }
        int extensionsEnd = i + 2 + hello.getUnsignedShort(i);
        if (extensionsEnd > end) {
            return false;
        }
        i += 2;
        while (i + 4 <= extensionsEnd) {
            int type = hello.getUnsignedShort(i);
            int length = hello.getUnsignedShort(i + 2);
            i += 4;
            if (i + length > extensionsEnd) {
                return false;
            }
            if (type == ALPN) {
                return lists(hello, i, i + length, protocol);
            }
            i += length;
        }
        return false;
    }

    /** ProtocolNameList (RFC 7301 §3.1): a 16-bit length, then names of 1 to 255 bytes each with an 8-bit length. */
    private static boolean lists(ByteBuf b, int i, int end, byte[] protocol) {
        if (i + 2 > end || i + 2 + b.getUnsignedShort(i) != end || i + 2 == end) {
            return false;
        }
        boolean found = false;
        for (i += 2; i < end; ) {
            int length = b.getUnsignedByte(i++);
            if (length == 0 || i + length > end) {
                return false;
            }
            found |= length == protocol.length && sameBytes(b, i, protocol);
            i += length;
        }
        return found;
    }

    private static boolean sameBytes(ByteBuf b, int at, byte[] expected) {
        for (int k = 0; k < expected.length; k++) {
            if (b.getByte(at + k) != expected[k]) {
                return false;
            }
        }
        return true;
    }

    /**
     * A validation connection after its handshake: RFC 8737 §4 has the CA send nothing and close
     * at once, so weldr closes it too as soon as the handshake is done (the TLS close_notify after
     * its last flight), and drops whatever the client sends instead of passing it on as HTTP.
     */
    static final class Validation extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
                ctx.close();
            }
            ctx.fireUserEventTriggered(evt);
        }
    }
}
