package dev.weldr.tls;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The JDK's TLS client, as a browser uses it: it sends a server name (SNI), trusts only the
 * test CA, and checks that the certificate names the host it asked for.
 */
public final class TlsClient {

    private TlsClient() {
    }

    /**
     * Takes any certificate: for a client that checks something else (a CA's TLS-ALPN-01
     * validation reads an extension, not a chain) or none (an attack tool aimed at any server).
     */
    public static final X509TrustManager ANY = new X509TrustManager() {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    };

    /** A context whose client takes any certificate ({@link #ANY}). */
    public static SSLContext trustingAnything() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[]{ANY}, null);
            return context;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static SSLContext trusting(X509Certificate ca) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            store.setCertificateEntry("ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A handshaken connection to 127.0.0.1:port naming {@code serverName} (none when null). The
     * TLS socket is layered over a connected one under the server's name, as a browser keys its
     * sessions: the JDK's client caches sessions by host and port, and resuming one sends the
     * server name of that session, whatever this connection asks for.
     */
    public static SSLSocket connect(SSLContext context, int port, String serverName, boolean checkName, String... protocols)
            throws IOException {
        return connect(context, port, serverName, checkName, null, protocols);
    }

    /** As {@link #connect(SSLContext, int, String, boolean, String...)}, offering only these cipher suites, in this order. */
    public static SSLSocket connect(SSLContext context, int port, String serverName, boolean checkName, List<String> ciphers,
                                    String... protocols) throws IOException {
        java.net.Socket plain = new java.net.Socket();
        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
        SSLSocket socket = (SSLSocket) context.getSocketFactory()
                .createSocket(plain, serverName == null ? "127.0.0.1" : serverName, port, true);
        socket.setSoTimeout(15_000);
        SSLParameters p = socket.getSSLParameters();
        p.setServerNames(serverName == null ? List.of() : List.of(new SNIHostName(serverName)));
        if (checkName) {
            p.setEndpointIdentificationAlgorithm("HTTPS");
        }
        // The tests speak HTTP/1.1 over these sockets; h2 is chosen over ALPN elsewhere (Http2Test).
        p.setApplicationProtocols(new String[]{"http/1.1"});
        if (protocols.length > 0) {
            p.setProtocols(protocols);
        }
        if (ciphers != null) {
            p.setCipherSuites(ciphers.toArray(new String[0]));
        }
        socket.setSSLParameters(p);
        try {
            socket.startHandshake();
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return socket;
    }

    /** The leaf a connection was served, by SHA-256 fingerprint. */
    public static String served(SSLSocket socket) throws Exception {
        X509Certificate leaf = (X509Certificate) socket.getSession().getPeerCertificates()[0];
        return java.util.HexFormat.ofDelimiter(":").withUpperCase()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(leaf.getEncoded()));
    }
}
