package dev.weldr.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Certificates made by the tests themselves (BouncyCastle): a throw-away CA, an intermediate,
 * and leaves with the names, validity and key type a test asks for. Nothing here is ever written
 * to the repository.
 */
public final class TestCertificates {

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** A certificate with its key, and the PEM forms the API takes. */
    public record Issued(X509Certificate certificate, KeyPair keys, Issued issuer) {

        /** This certificate, then its issuers up to (not including) the self-signed root. */
        public String chainPem() {
            StringBuilder out = new StringBuilder();
            for (Issued c = this; c != null && c.issuer() != null; c = c.issuer()) {
                out.append(pem(c.certificate()));
            }
            if (issuer == null) {
                out.append(pem(certificate));
            }
            return out.toString();
        }

        /** PKCS#8 ({@code PRIVATE KEY}). */
        public String keyPem() {
            return pem(new PemObject("PRIVATE KEY", keys.getPrivate().getEncoded()));
        }

        /** PKCS#1 ({@code RSA PRIVATE KEY}) for RSA, SEC1 ({@code EC PRIVATE KEY}) for EC: OpenSSL's "traditional" form. */
        public String traditionalKeyPem() {
            return pem(keys.getPrivate());
        }

        public String fingerprint() {
            try {
                return HexFormat.ofDelimiter(":").withUpperCase()
                        .formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static final java.security.Provider BC = new org.bouncycastle.jce.provider.BouncyCastleProvider();

    private TestCertificates() {
    }

    public static KeyPair rsa(int bits) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(bits);
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * An EC key pair. BouncyCastle's provider makes it (not registered, only asked here): its keys
     * encode their curve and public key in SEC1 form as OpenSSL writes them, the JDK's do not.
     */
    public static KeyPair ec(String curve) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC", BC);
            g.initialize(new ECGenParameterSpec(curve));
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static Issued ca(String name) {
        KeyPair keys = ec("secp256r1");
        return new Issued(build(name, keys, null, Instant.now().minus(Duration.ofDays(1)),
                Instant.now().plus(Duration.ofDays(30)), true, List.of()), keys, null);
    }

    public static Issued intermediate(Issued ca, String name) {
        KeyPair keys = ec("secp256r1");
        return new Issued(build(name, keys, ca, Instant.now().minus(Duration.ofDays(1)),
                Instant.now().plus(Duration.ofDays(30)), true, List.of()), keys, ca);
    }

    /** A leaf valid from yesterday for 30 days, with an ECDSA P-256 key. */
    public static Issued leaf(Issued issuer, String... dnsNames) {
        return leaf(issuer, ec("secp256r1"), Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)), dnsNames);
    }

    public static Issued leaf(Issued issuer, KeyPair keys, Instant notBefore, Instant notAfter, String... dnsNames) {
        return new Issued(build(dnsNames.length > 0 ? dnsNames[0] : "no-name", keys, issuer, notBefore, notAfter, false,
                List.of(dnsNames)), keys, issuer);
    }

    /** A leaf valid from yesterday for 30 days naming these hosts and IP addresses, as a server reached by address needs. */
    public static Issued server(Issued issuer, List<String> dnsNames, List<String> ipAddresses) {
        return server(issuer, dnsNames, ipAddresses, Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)));
    }

    /** The same, valid from {@code notBefore} to {@code notAfter}, with the extended key usages given (none: no such extension). */
    public static Issued server(Issued issuer, List<String> dnsNames, List<String> ipAddresses, Instant notBefore, Instant notAfter,
                                KeyPurposeId... usages) {
        KeyPair keys = ec("secp256r1");
        List<GeneralName> names = new ArrayList<>();
        dnsNames.forEach(n -> names.add(new GeneralName(GeneralName.dNSName, n)));
        ipAddresses.forEach(a -> names.add(new GeneralName(GeneralName.iPAddress, a)));
        return new Issued(buildNamed(dnsNames.isEmpty() ? ipAddresses.get(0) : dnsNames.get(0), keys, issuer,
                notBefore, notAfter, false, names, usages), keys, issuer);
    }

    private static X509Certificate build(String cn, KeyPair keys, Issued issuer, Instant notBefore, Instant notAfter,
                                         boolean ca, List<String> dnsNames) {
        List<GeneralName> names = new ArrayList<>();
        dnsNames.forEach(n -> names.add(new GeneralName(GeneralName.dNSName, n)));
        return buildNamed(cn, keys, issuer, notBefore, notAfter, ca, names);
    }

    private static X509Certificate buildNamed(String cn, KeyPair keys, Issued issuer, Instant notBefore, Instant notAfter,
                                              boolean ca, Collection<GeneralName> names) {
        return buildNamed(cn, keys, issuer, notBefore, notAfter, ca, names, new KeyPurposeId[0]);
    }

    private static X509Certificate buildNamed(String cn, KeyPair keys, Issued issuer, Instant notBefore, Instant notAfter,
                                              boolean ca, Collection<GeneralName> names, KeyPurposeId[] usages) {
        try {
            X500Name subject = new X500Name("CN=" + cn.replace("*", "wildcard"));
            X500Name issuerName = issuer == null ? subject
                    : X500Name.getInstance(issuer.certificate().getSubjectX500Principal().getEncoded());
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName, BigInteger.valueOf(SERIAL.incrementAndGet()),
                    Date.from(notBefore), Date.from(notAfter), subject, keys.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            if (ca) {
                b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            }
            if (usages.length > 0) {
                b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(usages));
            }
            if (!names.isEmpty()) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])));
            }
            KeyPair signer = issuer == null ? keys : issuer.keys();
            String algorithm = signer.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder(algorithm).build(signer.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static String pem(Object o) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return out.toString();
    }

    private static String pem(PemObject o) {
        StringWriter out = new StringWriter();
        try (PemWriter w = new PemWriter(out)) {
            w.writeObject(o);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return out.toString();
    }

    /** The JSON body of {@code PUT /certificates/{name}}. */
    public static String body(String chain, String key) {
        return "{\"chain\": " + json(chain) + ", \"key\": " + json(key) + "}";
    }

    public static String body(Issued leaf) {
        return body(leaf.chainPem(), leaf.keyPem());
    }

    private static String json(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\r", "\\r") + "\"";
    }
}
