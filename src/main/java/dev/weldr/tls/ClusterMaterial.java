package dev.weldr.tls;

import dev.weldr.config.InvalidConfigException;
import dev.weldr.config.TlsProvider;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One generation of a node's cluster TLS material ({@code weldr.cluster.tls.*}): its certificate
 * and key, the CA certificates its peers' must chain to, and what is made of them: the Raft
 * port's server context (a client certificate required), the context it connects to peers with
 * (the peer's certificate must name the host connected to), and the key and trust managers
 * for HTTPS between nodes. Immutable: a reload makes a new one.
 */
public final class ClusterMaterial {

    public static final String CERT = "weldr.cluster.tls.cert";
    public static final String KEY = "weldr.cluster.tls.key";
    public static final String CA = "weldr.cluster.tls.ca";

    /** Far more than a certificate, a key or a bundle of CAs needs; a file this big is not what was meant. */
    static final int MAX_FILE = 1 << 20;
    /** CA certificates in one bundle: room for several CAs while they are rotated. */
    static final int MAX_CAS = 100;

    /** The bytes of the three files as read, compared to tell a changed file from an unchanged one. */
    public record Contents(byte[] cert, byte[] key, byte[] ca) {

        @Override
        public boolean equals(Object o) {
            return o instanceof Contents c && Arrays.equals(cert, c.cert) && Arrays.equals(key, c.key) && Arrays.equals(ca, c.ca);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * Arrays.hashCode(cert) + Arrays.hashCode(key)) + Arrays.hashCode(ca);
        }

        @Override
        public String toString() {
            return "Contents";
        }
    }

    private final CertificateBundle bundle;
    private final List<X509Certificate> cas;
    private final SslContext server;
    private final SslContext client;
    private final X509ExtendedKeyManager keyManager;
    private final X509ExtendedTrustManager trustManager;
    private final long handshakeTimeoutMs;

    private ClusterMaterial(CertificateBundle bundle, List<X509Certificate> cas, SslContext server, SslContext client,
                            X509ExtendedKeyManager keyManager, X509ExtendedTrustManager trustManager, long handshakeTimeoutMs) {
        this.bundle = bundle;
        this.cas = cas;
        this.server = server;
        this.client = client;
        this.keyManager = keyManager;
        this.trustManager = trustManager;
        this.handshakeTimeoutMs = handshakeTimeoutMs;
    }

    /** Reads the three files; a file that cannot be read is named by its key. */
    public static Contents read(Path cert, Path key, Path ca) {
        return new Contents(read(CERT, cert), read(KEY, key), read(CA, ca));
    }

    private static byte[] read(String name, Path file) {
        try {
            if (Files.size(file) > MAX_FILE) {
                throw new InvalidConfigException(name, file + " is larger than 1 MiB, which no PEM certificate or key is");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InvalidConfigException(name, "cannot read " + file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new InvalidConfigException(name, "cannot read " + file + ": permission denied");
        } catch (IOException e) {
            throw new InvalidConfigException(name, "cannot read " + file + ": " + e.getMessage());
        }
    }

    /**
     * Checks the material and makes the contexts: the key belongs to the certificate, the
     * certificate is valid at {@code now}, a CA of the bundle signs it (PKIX, through any
     * intermediates that follow it in the file), it may serve both ends of a connection, and it
     * names {@code host}, this node's Raft host. A problem is an {@link InvalidConfigException}
     * naming the file's key.
     */
    public static ClusterMaterial of(Contents contents, String host, TlsProvider provider, long handshakeTimeoutMs, Instant now) {
        CertificateBundle bundle;
        try {
            bundle = CertificateBundle.parse(text(contents.cert()), text(contents.key()), now);
        } catch (InvalidCertificateException e) {
            String m = e.getMessage();
            if (m.startsWith("key: ")) {
                throw new InvalidConfigException(KEY, m.substring(5));
            }
            throw new InvalidConfigException(CERT, m.startsWith("chain: ") ? m.substring(7) : m);
        }
        List<X509Certificate> cas;
        try {
            cas = Pem.certificates(text(contents.ca()), CA, MAX_CAS, "");
        } catch (InvalidCertificateException e) {
            throw new InvalidConfigException(CA, e.getMessage().startsWith(CA + ": ") ? e.getMessage().substring(CA.length() + 2) : e.getMessage());
        }
        X509Certificate leaf = bundle.chain().get(0);
        signedBy(bundle.chain(), cas, now);
        usableBothWays(leaf);
        if (!PeerNames.covers(leaf, host)) {
            throw new InvalidConfigException(CERT, "names " + PeerNames.of(leaf) + " but not " + host
                    + ", this node's weldr.raft.host: a node's certificate must name the host of its Raft id");
        }
        try {
            X509ExtendedTrustManager pkix = pkix(cas);
            X509Certificate[] chain = bundle.chain().toArray(new X509Certificate[0]);
            io.netty.handler.ssl.SslProvider netty = ServerContexts.provider(provider);
            SslContext server = SslContextBuilder.forServer(bundle.key(), chain)
                    .sslProvider(netty)
                    .protocols(ServerContexts.PROTOCOLS)
                    .trustManager(pkix)
                    .clientAuth(ClientAuth.REQUIRE)
                    .build();
            SslContext client = SslContextBuilder.forClient()
                    .sslProvider(netty)
                    .protocols(ServerContexts.PROTOCOLS)
                    .keyManager(bundle.key(), chain)
                    .trustManager(new NamingTrustManager(pkix))
                    .build();
            return new ClusterMaterial(bundle, List.copyOf(cas), server, client, keyManager(bundle), pkix, handshakeTimeoutMs);
        } catch (GeneralSecurityException | IOException e) {
            throw new InvalidConfigException(CERT, "cannot be used for TLS: " + e.getMessage());
        }
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    private static void signedBy(List<X509Certificate> chain, List<X509Certificate> cas, Instant now) {
        Set<TrustAnchor> anchors = new HashSet<>();
        cas.forEach(ca -> anchors.add(new TrustAnchor(ca, null)));
        // A file that ends with the root itself: the path stops before it.
        List<X509Certificate> path = new ArrayList<>(chain);
        path.removeIf(cas::contains);
        if (path.isEmpty()) {
            throw new InvalidConfigException(CERT, "is one of the CA certificates of " + CA + ", not a node's certificate");
        }
        try {
            PKIXParameters params = new PKIXParameters(anchors);
            params.setRevocationEnabled(false);
            params.setDate(Date.from(now));
            CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
        } catch (CertPathValidatorException e) {
            throw new InvalidConfigException(CA, "does not sign the certificate of " + CERT + " (" + e.getMessage() + ")");
        } catch (GeneralSecurityException e) {
            throw new InvalidConfigException(CA, "cannot check the certificate of " + CERT + " against it (" + e.getMessage() + ")");
        }
    }

    /** A node presents the same certificate when it accepts a connection and when it opens one. */
    private static void usableBothWays(X509Certificate leaf) {
        List<String> usages;
        try {
            usages = leaf.getExtendedKeyUsage();
        } catch (CertificateParsingException e) {
            throw new InvalidConfigException(CERT, "its extendedKeyUsage cannot be read");
        }
        if (usages == null || usages.contains("2.5.29.37.0")) {
            return;
        }
        for (String[] need : new String[][]{{"1.3.6.1.5.5.7.3.1", "serverAuth"}, {"1.3.6.1.5.5.7.3.2", "clientAuth"}}) {
            if (!usages.contains(need[0])) {
                throw new InvalidConfigException(CERT, "its extendedKeyUsage lacks " + need[1]
                        + ": a node presents its certificate both as a server and as a client (serverAuth, clientAuth)");
            }
        }
    }

    private static X509ExtendedTrustManager pkix(List<X509Certificate> cas) throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        for (int i = 0; i < cas.size(); i++) {
            store.setCertificateEntry("ca" + i, cas.get(i));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(store);
        for (TrustManager tm : tmf.getTrustManagers()) {
            if (tm instanceof X509ExtendedTrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("no X.509 trust manager");
    }

    private static X509ExtendedKeyManager keyManager(CertificateBundle bundle) throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = new char[0];
        store.setKeyEntry("node", bundle.key(), password, bundle.chain().toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, password);
        return (X509ExtendedKeyManager) kmf.getKeyManagers()[0];
    }

    /** The Raft port's context: this node's certificate, a certificate the CA signed required of the client. */
    public SslContext server() {
        return server;
    }

    /** The context for connections to peers: presents this node's certificate, checks the peer's names the host connected to. */
    public SslContext client() {
        return client;
    }

    /** This node's certificate and key, for HTTPS clients (JDK). */
    public X509ExtendedKeyManager keyManager() {
        return keyManager;
    }

    /** Trusts what the CA bundle signed; the host name is checked by the HTTPS client itself (endpoint identification). */
    public X509ExtendedTrustManager trustManager() {
        return trustManager;
    }

    public long handshakeTimeoutMs() {
        return handshakeTimeoutMs;
    }

    /** This node's certificate. */
    public X509Certificate certificate() {
        return bundle.chain().get(0);
    }

    public Instant notAfter() {
        return bundle.info().notAfter();
    }

    public List<X509Certificate> cas() {
        return cas;
    }

    /** One line for the log: the certificate's names, expiry and fingerprint, and how many CAs are trusted. */
    public String describe() {
        return "certificate for " + PeerNames.of(certificate()) + " valid until " + bundle.info().notAfter()
                + " (SHA-256 " + bundle.info().fingerprint().substring(0, 23) + "…), " + cas.size() + " CA certificate" + (cas.size() == 1 ? "" : "s");
    }

    /**
     * Checks the server's certificate against the CA bundle, then that it names the host this
     * node connected to: one node's certificate cannot stand in for another's address.
     */
    static final class NamingTrustManager extends X509ExtendedTrustManager {

        private final X509ExtendedTrustManager pkix;

        NamingTrustManager(X509ExtendedTrustManager pkix) {
            this.pkix = pkix;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            pkix.checkServerTrusted(chain, authType, engine);
            String host = engine == null ? null : engine.getPeerHost();
            if (!PeerNames.covers(chain[0], host)) {
                throw new CertificateException("the peer's certificate names " + PeerNames.of(chain[0]) + ", not " + host + ", the host connected to");
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            throw new CertificateException("only Netty's engines connect to peers");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("only Netty's engines connect to peers");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            pkix.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            pkix.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            pkix.checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return pkix.getAcceptedIssuers();
        }
    }
}
