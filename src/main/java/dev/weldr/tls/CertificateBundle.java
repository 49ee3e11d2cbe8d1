package dev.weldr.tls;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A certificate chain and its private key, checked as weldr needs them to serve HTTPS: the key
 * is RSA of at least 2048 bits or ECDSA on P-256 or P-384 and belongs to the leaf, each
 * certificate is issued by the next, the leaf is within its validity period, and its names are
 * DNS names or wildcards. Only the leaf's validity is checked: a chain may end in a cross-sign
 * that expired while the client trusts the root it leads to.
 */
public record CertificateBundle(List<X509Certificate> chain, PrivateKey key, Info info) {

    /** What the API shows of a certificate: never the key. */
    public record Info(List<String> names, String subject, String issuer, Instant notBefore, Instant notAfter,
                       String fingerprint, String keyType) {
    }

    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final BigInteger P256 = order("secp256r1");
    private static final BigInteger P384 = order("secp384r1");
    private static final int DNS_NAME = 2;
    private static final int IP_ADDRESS = 7;

    /**
     * Parses and checks a chain (leaf first) and its key; the leaf's validity as of {@code now},
     * or not at all when null (a stored certificate that expired since is still served, as
     * nginx and HAProxy do: clients say why they refuse it, better than another site's).
     */
    public static CertificateBundle parse(String chainPem, String keyPem, Instant now) throws InvalidCertificateException {
        List<X509Certificate> chain = Pem.certificates(chainPem);
        PrivateKey key = Pem.privateKey(keyPem);
        X509Certificate leaf = chain.get(0);
        String keyType = keyType(key);
        if (!leaf.getPublicKey().getAlgorithm().equals(key.getAlgorithm()) || !signs(key, leaf.getPublicKey())) {
            throw new InvalidCertificateException("key: does not match the leaf certificate (the first of the chain)");
        }
        for (int i = 0; i + 1 < chain.size(); i++) {
            X509Certificate child = chain.get(i);
            X509Certificate parent = chain.get(i + 1);
            if (!issued(parent, child)) {
                throw new InvalidCertificateException("chain: out of order: certificate " + (i + 2) + " (" + parent.getSubjectX500Principal()
                        + ") did not issue certificate " + (i + 1) + " (" + child.getSubjectX500Principal()
                        + "); put the leaf first, then each issuer");
            }
        }
        if (now != null && now.isBefore(leaf.getNotBefore().toInstant())) {
            throw new InvalidCertificateException("chain: the leaf certificate is not valid yet (not before " + leaf.getNotBefore().toInstant() + ")");
        }
        if (now != null && now.isAfter(leaf.getNotAfter().toInstant())) {
            throw new InvalidCertificateException("chain: the leaf certificate expired on " + leaf.getNotAfter().toInstant());
        }
        return new CertificateBundle(List.copyOf(chain), key, describe(chain, keyType));
    }

    /** What {@code GET /certificates} shows of a stored chain (checked when it was stored). */
    public static Info describe(String chainPem) throws InvalidCertificateException {
        List<X509Certificate> chain = Pem.certificates(chainPem);
        PublicKey pub = chain.get(0).getPublicKey();
        String type = pub instanceof RSAKey r ? "RSA " + r.getModulus().bitLength()
                : pub instanceof ECKey e ? curve(e.getParams()) : pub.getAlgorithm();
        return describe(chain, type);
    }

    private static Info describe(List<X509Certificate> chain, String keyType) throws InvalidCertificateException {
        X509Certificate leaf = chain.get(0);
        return new Info(names(leaf), leaf.getSubjectX500Principal().getName(), leaf.getIssuerX500Principal().getName(),
                leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant(), fingerprint(leaf), keyType);
    }

    /**
     * The names a leaf covers: its subjectAltName DNS names, lower case. A certificate with only
     * IP addresses covers no name but can be the default certificate.
     */
    static List<String> names(X509Certificate leaf) throws InvalidCertificateException {
        Collection<List<?>> alt;
        try {
            alt = leaf.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new InvalidCertificateException("chain: the leaf's subjectAltName cannot be read");
        }
        List<String> names = new ArrayList<>();
        boolean addresses = false;
        if (alt != null) {
            for (List<?> entry : alt) {
                int type = (Integer) entry.get(0);
                if (type == DNS_NAME) {
                    String name = ((String) entry.get(1)).toLowerCase(Locale.ROOT);
                    if (!validName(name)) {
                        throw new InvalidCertificateException("chain: the leaf names '" + name
                                + "', which is neither a DNS name nor a wildcard such as *.example.com");
                    }
                    if (!names.contains(name)) {
                        names.add(name);
                    }
                } else if (type == IP_ADDRESS) {
                    addresses = true;
                }
            }
        }
        if (names.isEmpty() && !addresses) {
            throw new InvalidCertificateException("chain: the leaf names no DNS name nor address in its subjectAltName");
        }
        return List.copyOf(names);
    }

    /** A DNS name of two labels or more, or {@code *.} followed by one (a wildcard covers one label). */
    public static boolean validName(String name) {
        String rest = name.startsWith("*.") ? name.substring(2) : name;
        if (rest.isEmpty() || rest.length() > 253) {
            return false;
        }
        String[] labels = rest.split("\\.", -1);
        if (name.startsWith("*.") && labels.length < 2) {
            return false;
        }
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) {
                return false;
            }
        }
        return true;
    }

    private static String keyType(PrivateKey key) throws InvalidCertificateException {
        if (key instanceof RSAKey rsa) {
            int bits = rsa.getModulus().bitLength();
            if (bits < 2048) {
                throw new InvalidCertificateException("key: RSA keys need at least 2048 bits, this one has " + bits);
            }
            return "RSA " + bits;
        }
        if (key instanceof ECKey ec) {
            String curve = curve(ec.getParams());
            if (curve == null) {
                throw new InvalidCertificateException("key: ECDSA keys must be on P-256 or P-384");
            }
            return curve;
        }
        throw new InvalidCertificateException("key: must be RSA or ECDSA, not " + key.getAlgorithm());
    }

    private static String curve(ECParameterSpec params) {
        BigInteger order = params.getOrder();
        return order.equals(P256) ? "ECDSA P-256" : order.equals(P384) ? "ECDSA P-384" : null;
    }

    private static boolean signs(PrivateKey key, PublicKey leafKey) {
        try {
            String algorithm = key instanceof RSAKey ? "SHA256withRSA" : "SHA256withECDSA";
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leafKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static boolean issued(X509Certificate parent, X509Certificate child) {
        if (!child.getIssuerX500Principal().equals(parent.getSubjectX500Principal())) {
            return false;
        }
        try {
            child.verify(parent.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String fingerprint(X509Certificate leaf) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(leaf.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static BigInteger order(String curve) {
        try {
            AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
            p.init(new ECGenParameterSpec(curve));
            return p.getParameterSpec(ECParameterSpec.class).getOrder();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Never prints the key. */
    @Override
    public String toString() {
        return "CertificateBundle" + info.names();
    }
}
