package dev.weldr.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import dev.weldr.tls.TlsMetrics.Failure;
import io.netty.util.ReferenceCountUtil;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Counts how each connection's handshake on the HTTPS listener ends, from the events Netty's
 * {@code SniHandler} (the {@link ChallengeSniHandler}) and {@code SslHandler} fire (not from their
 * log messages), then leaves the pipeline. It sits after the {@code SniHandler}; {@link #plainHttpAnswer} goes before it.
 */
public final class HandshakeWatch extends ChannelInboundHandlerAdapter {

    /**
     * The alerts a client sends when it refuses the certificate, as the JDK names them in its
     * messages ({@code certificate_unknown}) and OpenSSL in its reasons ({@code SSLV3_ALERT_CERTIFICATE_UNKNOWN}).
     */
    private static final List<String> REJECTED = List.of("certificate_unknown", "bad_certificate", "unknown_ca",
            "certificate_expired", "certificate_revoked", "unsupported_certificate");
    private static final ByteBuf PLAIN_HTTP_ANSWER = Unpooled.unreleasableBuffer(Unpooled.copiedBuffer(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 61\r\nConnection: close\r\n\r\n"
                    + "The plain HTTP request was sent to the HTTPS port: use https\n", StandardCharsets.US_ASCII));

    private final TlsMetrics metrics;
    private final CertificateStore certificates;
    /** The SNI lookup found no certificate: the handshake is refused by the context that serves none. */
    private boolean nameUnknown;
    /** The client sent a byte: a connection closed before that (a load balancer's TCP check) began no handshake. */
    private boolean spoke;
    private boolean counted;

    public HandshakeWatch(TlsMetrics metrics, CertificateStore certificates) {
        this.metrics = metrics;
        this.certificates = certificates;
    }

    /**
     * The handler that goes first on the HTTPS listener: a connection whose first byte is an
     * upper-case letter speaks plain HTTP (a TLS record starts with its type, 0x14 to 0x17, and an
     * SSL 2 hello with its top bit set). It gets nginx's answer, a 400 that says why, instead of a
     * TLS alert that {@code curl http://host:8443} reports as an empty reply; then it is closed.
     */
    public ChannelInboundHandlerAdapter plainHttpAnswer() {
        return new ChannelInboundHandlerAdapter() {
            private boolean answered;

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (answered) {
                    ReferenceCountUtil.release(msg);
                    return;
                }
                if (msg instanceof ByteBuf in && in.isReadable()) {
                    spoke = true;
                    byte first = in.getByte(in.readerIndex());
                    if (first >= 'A' && first <= 'Z') {
                        answered = true;
                        in.release();
                        count(Failure.PLAIN_HTTP);
                        ctx.writeAndFlush(PLAIN_HTTP_ANSWER.duplicate()).addListener(ChannelFutureListener.CLOSE);
                        return;
                    }
                    ctx.pipeline().remove(this);
                }
                ctx.fireChannelRead(msg);
            }
        };
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SniCompletionEvent sni) {
            if (sni.isSuccess()) {
                // A TLS-ALPN-01 validation for a host with no certificate yet is answered: its name is known.
                nameUnknown = certificates.table().find(sni.hostname()) == null
                        && ctx.pipeline().get(ChallengeSniHandler.Validation.class) == null;
            } else {
                count(classify(sni.cause()));
            }
        } else if (evt instanceof SslHandshakeCompletionEvent done) {
            if (done.isSuccess()) {
                if (!counted) {
                    counted = true;
                    metrics.handshake();
                }
            } else {
                count(classify(done.cause()));
            }
            ctx.fireUserEventTriggered(evt);
            ctx.pipeline().remove(this);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        // Closed before the ClientHello was whole: the SniHandler fires no event for that.
        if (spoke) {
            count(Failure.CLOSED);
        }
        ctx.fireChannelInactive();
    }

    private void count(Failure reason) {
        if (!counted) {
            counted = true;
            metrics.failed(reason);
        }
    }

    private Failure classify(Throwable cause) {
        Throwable c = cause;
        while (c instanceof DecoderException && c.getCause() != null) {
            c = c.getCause();
        }
        if (c instanceof SslHandshakeTimeoutException) {
            return Failure.TIMEOUT;
        }
        if (c instanceof ClosedChannelException) {
            return Failure.CLOSED;
        }
        if (c instanceof NotSslRecordException) {
            return Failure.PROTOCOL;
        }
        if (nameUnknown) {
            // Whatever the engine (the JDK's or OpenSSL) made of it, the name is why it was refused.
            return Failure.UNRECOGNIZED_NAME;
        }
        if (c instanceof SSLException) {
            String message = String.valueOf(c.getMessage()).toLowerCase(Locale.ROOT);
            for (String alert : REJECTED) {
                if (message.contains(alert)) {
                    return Failure.CERTIFICATE_REJECTED;
                }
            }
            return Failure.PROTOCOL;
        }
        if (c instanceof IOException) {
            // A reset by the client.
            return Failure.CLOSED;
        }
        return Failure.OTHER;
    }
}
