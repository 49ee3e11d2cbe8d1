package dev.weldr.tls;

import dev.weldr.config.WeldrConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jboss.logging.Logger;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The ACME TLS-ALPN-01 challenges (RFC 8737) this node answers on the HTTPS listener. For each
 * host, a self-signed certificate naming it and carrying the challenge's digest, served only to a
 * client that offers ALPN {@code acme-tls/1} (a CA validating; see {@link ChallengeSniHandler}):
 * every other client of that host keeps getting the host's certificate, so the validation of a
 * renewal never disturbs the site. Whoever applies the replicated challenges gives them here on
 * every node, so that the CA's connection is answered whichever node it reaches.
 * <p>
 * A bean of its own rather than part of {@link CertificateStore}: the challenges come from the
 * ACME state, not from the certificates, change on another schedule (minutes, while an order is
 * validated), and share nothing with the certificates' table but the TLS settings.
 */
@ApplicationScoped
public class TlsAlpnChallenges {

    /** The protocol a CA offers, alone, when it validates (RFC 8737 §3). */
    public static final String ACME_TLS_1 = "acme-tls/1";
    /** id-pe-acmeIdentifier: the extension that holds the digest (RFC 8737 §3). */
    static final ASN1ObjectIdentifier ACME_IDENTIFIER = new ASN1ObjectIdentifier("1.3.6.1.5.5.7.1.31");
    /** A SHA-256 digest of the key authorization. */
    static final int DIGEST_LENGTH = 32;

    private static final Logger LOG = Logger.getLogger(TlsAlpnChallenges.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final X500Name SUBJECT = new X500Name("CN=acme.invalid");

    @Inject
    WeldrConfig config;

    private SslProvider provider;
    private long handshakeTimeoutMs;
    /** Host (lower case) to the context that answers its challenge; read on the event loops. */
    private volatile Map<String, SslContext> contexts = Map.of();
    private volatile Supplier<CompletableFuture<Void>> catchUp = () -> null;
    /** What {@link #contexts} was built from; only {@link #update} touches it. */
    private Map<String, Answer> built = Map.of();

    private record Answer(byte[] digest, SslContext context) {
    }

    @PostConstruct
    void init() {
        // The same choice as CertificateStore's, from the same key: a validation is served as the site is.
        provider = ServerContexts.provider(config.tls().provider());
        handshakeTimeoutMs = config.tls().handshakeTimeout().toMillis();
    }

    /**
     * Answers exactly these challenges from now on: host (a DNS name; wildcards cannot be
     * validated this way) to the SHA-256 digest of the key authorization, as acme4j's
     * {@code TlsAlpn01Challenge.getAcmeValidation()} gives it. A host left out is no longer
     * answered. Builds each new host's certificate (a fresh P-256 key) and TLS context on the
     * calling thread, never an event loop's, and returns once this node answers them all; a host
     * whose digest did not change keeps its context. An entry that is not a DNS name with a
     * 32-byte digest is left out, with one line in the log.
     */
    /**
     * How this node catches up with the leader's committed challenges: a future that completes
     * once it has (null when there is nothing to wait for). A validation for a host this node
     * has no challenge for waits for it before it is answered without one.
     */
    public void catchUpWith(Supplier<CompletableFuture<Void>> catchUp) {
        this.catchUp = catchUp;
    }

    CompletableFuture<Void> catchUp() {
        return catchUp.get();
    }

    public synchronized void update(Map<String, byte[]> validationByHost) {
        Map<String, Answer> next = new HashMap<>();
        for (Map.Entry<String, byte[]> e : validationByHost.entrySet()) {
            String host = normalise(e.getKey());
            byte[] digest = e.getValue();
            if (host == null || host.startsWith("*.") || !CertificateBundle.validName(host)) {
                LOG.errorf("TLS-ALPN-01 challenge for '%s' not answered: not a DNS name", e.getKey());
                continue;
            }
            if (digest == null || digest.length != DIGEST_LENGTH) {
                LOG.errorf("TLS-ALPN-01 challenge for %s not answered: its digest has %d bytes, not %d", host,
                        digest == null ? 0 : digest.length, DIGEST_LENGTH);
                continue;
            }
            Answer a = built.get(host);
            if (a == null || !Arrays.equals(a.digest(), digest)) {
                try {
                    a = new Answer(digest.clone(), context(host, digest));
                    LOG.debugf("TLS-ALPN-01 challenge for %s answered", host);
                } catch (Exception ex) {
                    LOG.errorf("TLS-ALPN-01 challenge for %s not answered: %s", host, ex.toString());
                    continue;
                }
            }
            next.put(host, a);
        }
        Map<String, SslContext> published = new HashMap<>();
        next.forEach((host, a) -> published.put(host, a.context()));
        contexts = Map.copyOf(published);
        built = next;
    }

    /** The context answering the challenge for this server name, or null when there is none: called on the event loops. */
    SslContext context(String serverName) {
        String host = normalise(serverName);
        return host == null ? null : contexts.get(host);
    }

    private static String normalise(String name) {
        if (name == null || name.isEmpty()) {
            return null;
        }
        String host = name.toLowerCase(Locale.ROOT);
        return host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    }

    private SslContext context(String host, byte[] digest) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        KeyPair keys = generator.generateKeyPair();
        return ServerContexts.challenge(keys.getPrivate(), certificate(host, digest, keys), handshakeTimeoutMs, provider);
    }

    /**
     * RFC 8737 §3: self-signed, the host as its only subjectAltName, and the digest as a DER
     * OCTET STRING in the critical acmeIdentifier extension. Written here rather than taken from
     * acme4j's {@code CertificateUtils.createTlsAlpn01Certificate}, which signs with
     * SHA256withRSA whatever the key, so cannot take a P-256 key. RFC 8737 asks nothing of the
     * validity: generous, since a context is kept while its challenge is pending (days at most).
     */
    static X509Certificate certificate(String host, byte[] digest, KeyPair keys) throws Exception {
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(SUBJECT,
                BigInteger.valueOf(RANDOM.nextLong() & Long.MAX_VALUE | 1),
                Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(30))), SUBJECT, keys.getPublic());
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.dNSName, host)));
        b.addExtension(ACME_IDENTIFIER, true, new DEROctetString(digest));
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    }
}
