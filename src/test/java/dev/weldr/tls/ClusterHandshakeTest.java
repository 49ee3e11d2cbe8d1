package dev.weldr.tls;

import dev.weldr.config.TlsProvider;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslHandler;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two nodes' contexts shaking hands in memory: each side presents its certificate; the side
 * that connects accepts only a certificate naming the host it connected to.
 */
class ClusterHandshakeTest {

    private static final TestCertificates.Issued CA = ClusterMaterialTest.CA;

    private static ClusterMaterial material(String host) {
        TestCertificates.Issued cert = TestCertificates.server(CA, List.of(), List.of(host));
        ClusterMaterial.Contents contents = new ClusterMaterial.Contents(bytes(cert.chainPem()), bytes(cert.keyPem()),
                bytes(TestCertificates.pem(CA.certificate())));
        return ClusterMaterial.of(contents, host, TlsProvider.JDK, 10_000, Instant.now());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Runs the handshake between the two channels; the client's and server's handlers after it. */
    private static SslHandler[] handshake(ClusterMaterial server, ClusterMaterial client, String connectedTo) {
        SslHandler serverHandler = server.server().newHandler(ByteBufAllocator.DEFAULT);
        SslHandler clientHandler = client.client().newHandler(ByteBufAllocator.DEFAULT, connectedTo, 8688);
        EmbeddedChannel serverSide = new EmbeddedChannel(serverHandler);
        EmbeddedChannel clientSide = new EmbeddedChannel(clientHandler);
        for (int round = 0; round < 20; round++) {
            shuttle(clientSide, serverSide);
            shuttle(serverSide, clientSide);
        }
        return new SslHandler[]{clientHandler, serverHandler};
    }

    private static void shuttle(EmbeddedChannel from, EmbeddedChannel to) {
        for (ByteBuf b = from.readOutbound(); b != null; b = from.readOutbound()) {
            if (!to.isOpen()) {
                b.release();
                continue;
            }
            try {
                to.writeInbound(b);
            } catch (Exception handshakeFailed) {
                // the handler's future holds the cause
            }
        }
    }

    @Test
    void shouldShakeHandsWhenThePeersCertificateNamesTheHostConnectedTo() throws Exception {
        ClusterMaterial a = material("127.0.0.1");
        ClusterMaterial b = material("127.0.0.1");
        SslHandler[] sides = handshake(a, b, "127.0.0.1");
        assertTrue(sides[0].handshakeFuture().isSuccess(), String.valueOf(sides[0].handshakeFuture().cause()));
        assertTrue(sides[1].handshakeFuture().isSuccess(), String.valueOf(sides[1].handshakeFuture().cause()));
        assertEquals(b.certificate(), sides[1].engine().getSession().getPeerCertificates()[0], "the server sees the client's certificate");
    }

    @Test
    void shouldRefuseAPeerWhoseCertificateNamesAnotherHost() {
        ClusterMaterial elsewhere = material("10.0.0.9");
        SslHandler[] sides = handshake(elsewhere, material("127.0.0.1"), "127.0.0.1");
        assertFalse(sides[0].handshakeFuture().isSuccess());
        Throwable cause = sides[0].handshakeFuture().cause();
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        assertTrue(cause.getMessage().contains("not 127.0.0.1"), cause.toString());
    }
}
