package dev.weldr.tls;

import dev.weldr.config.InvalidConfigException;
import org.jboss.logging.Logger;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * The three files of {@code weldr.cluster.tls.*} and the material made of them. {@link #load}
 * at start-up throws on bad files; {@link #reload} never does: bad files leave the material in
 * use, with one error line per distinct bad content, once it has been read the same twice in a
 * row: a certificate and key written one after the other are a mismatched pair for a moment,
 * which is no error. Compares contents, not timestamps or inodes: cert-manager and Kubernetes
 * secrets swap a symlink to a new directory.
 */
public final class ClusterFiles {

    private static final Logger LOG = Logger.getLogger(ClusterFiles.class);

    private final Path cert;
    private final Path key;
    private final Path ca;
    private final Function<ClusterMaterial.Contents, ClusterMaterial> make;
    private ClusterMaterial.Contents loaded;
    private volatile ClusterMaterial current;
    /** The bad contents (or read failure) seen at the poll before, and the last one reported. */
    private Object seenBad;
    private Object reportedBad;
    private SSLContext jdk;

    public ClusterFiles(Path cert, Path key, Path ca, Function<ClusterMaterial.Contents, ClusterMaterial> make) {
        this.cert = cert;
        this.key = key;
        this.ca = ca;
        this.make = make;
    }

    /** Reads and checks the files; {@link InvalidConfigException} naming the key of the first bad one. */
    public synchronized ClusterMaterial load() {
        ClusterMaterial.Contents contents = ClusterMaterial.read(cert, key, ca);
        current = make.apply(contents);
        loaded = contents;
        return current;
    }

    public ClusterMaterial current() {
        return current;
    }

    /** Reads the files again: the new material when they changed and are good, else null. */
    public synchronized ClusterMaterial reload() {
        ClusterMaterial.Contents contents;
        try {
            contents = ClusterMaterial.read(cert, key, ca);
        } catch (InvalidConfigException e) {
            bad(e.getMessage(), e.getMessage());
            return null;
        }
        if (contents.equals(loaded)) {
            seenBad = null;
            reportedBad = null;
            return null;
        }
        ClusterMaterial next;
        try {
            next = make.apply(contents);
        } catch (InvalidConfigException e) {
            bad(contents, e.getMessage());
            return null;
        }
        loaded = contents;
        current = next;
        seenBad = null;
        reportedBad = null;
        if (jdk != null) {
            // A resumed session would go on presenting the old certificate: new connections shake hands anew.
            forget(jdk.getClientSessionContext());
            forget(jdk.getServerSessionContext());
        }
        LOG.infof("Cluster TLS reloaded: %s; new connections use it", next.describe());
        return next;
    }

    private void bad(Object what, String why) {
        boolean settled = what.equals(seenBad);
        seenBad = what;
        if (settled && !what.equals(reportedBad)) {
            reportedBad = what;
            LOG.errorf("Cluster TLS: the files changed but cannot be used; the material loaded before stays in use: %s", why);
        }
    }

    private static void forget(javax.net.ssl.SSLSessionContext sessions) {
        for (java.util.Enumeration<byte[]> ids = sessions.getIds(); ids.hasMoreElements(); ) {
            javax.net.ssl.SSLSession session = sessions.getSession(ids.nextElement());
            if (session != null) {
                session.invalidate();
            }
        }
    }

    /**
     * A JDK context for HTTPS between nodes, made once: it presents this node's certificate and
     * trusts the cluster's CA through managers that ask for the material in use at each
     * handshake, so a client built with it follows reloads. The host name is the client's to
     * check (the JDK's HttpClient does).
     */
    public synchronized SSLContext sslContext() {
        if (jdk == null) {
            try {
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(new KeyManager[]{new CurrentKey()}, new TrustManager[]{new CurrentTrust()}, null);
                jdk = context;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("the JDK's TLS is not available", e);
            }
        }
        return jdk;
    }

    private final class CurrentKey extends X509ExtendedKeyManager {

        private X509ExtendedKeyManager now() {
            return current.keyManager();
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return now().getClientAliases(keyType, issuers);
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return now().chooseClientAlias(keyType, issuers, socket);
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return now().chooseEngineClientAlias(keyType, issuers, engine);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return now().getServerAliases(keyType, issuers);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return now().chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return now().chooseEngineServerAlias(keyType, issuers, engine);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return now().getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return now().getPrivateKey(alias);
        }
    }

    private final class CurrentTrust extends X509ExtendedTrustManager {

        private X509ExtendedTrustManager now() {
            return current.trustManager();
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            now().checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            now().checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            now().checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            now().checkServerTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            now().checkClientTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            now().checkServerTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return now().getAcceptedIssuers();
        }
    }
}
