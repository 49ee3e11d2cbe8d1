package dev.weldr.tls;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.nio.ByteBuffer;
import java.util.List;

/** ClientHellos as the JDK's TLS client writes them, for tests that take them apart or corrupt them. */
public final class ClientHellos {

    private ClientHellos() {
    }

    /** The first ClientHello the JDK's client sends, as a TLS record. */
    public static byte[] jdk(String host, String... alpn) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        SSLEngine engine = context.createSSLEngine(host, 443);
        engine.setUseClientMode(true);
        SSLParameters p = engine.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(host)));
        p.setApplicationProtocols(alpn);
        engine.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] record = new byte[out.remaining()];
        out.get(record);
        return record;
    }

    /** Where the ALPN extension's data starts in a ClientHello's body (from legacy_version on): after its type (16) and length. */
    public static int alpnData(byte[] body) {
        int i = 2 + 32;
        i += 1 + (body[i] & 0xff);
        i += 2 + ((body[i] & 0xff) << 8 | body[i + 1] & 0xff);
        i += 1 + (body[i] & 0xff);
        int end = i + 2 + ((body[i] & 0xff) << 8 | body[i + 1] & 0xff);
        for (i += 2; i < end; ) {
            int type = (body[i] & 0xff) << 8 | body[i + 1] & 0xff;
            int length = (body[i + 2] & 0xff) << 8 | body[i + 3] & 0xff;
            if (type == 16) {
                return i + 4;
            }
            i += 4 + length;
        }
        throw new AssertionError("no ALPN extension");
    }
}
