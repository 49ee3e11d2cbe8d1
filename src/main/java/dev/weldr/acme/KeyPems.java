package dev.weldr.acme;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;

/**
 * The keys of the ACME account and of orders: P-256 from the JDK, stored as SEC1
 * ({@code EC PRIVATE KEY}, with the public key inside, so that a key pair reads back whole and the
 * same PEM serves as a certificate's key). Not acme4j's {@code KeyPairUtils}: it makes keys through
 * BouncyCastle as a registered provider, and such keys (algorithm {@code ECDSA}) would differ from
 * the JDK's ones weldr's TLS takes.
 */
final class KeyPems {

    private KeyPems() {
    }

    static KeyPair newKey() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot make P-256 keys", e);
        }
    }

    static String pem(KeyPair key) throws IOException {
        SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(key.getPublic().getEncoded());
        ECPrivateKey d = (ECPrivateKey) key.getPrivate();
        org.bouncycastle.asn1.sec.ECPrivateKey sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(
                d.getParams().getOrder().bitLength(), d.getS(), spki.getPublicKeyData(), spki.getAlgorithm().getParameters());
        StringWriter out = new StringWriter();
        try (PemWriter w = new PemWriter(out)) {
            w.writeObject(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
        }
        return out.toString();
    }

    static KeyPair read(String pem) throws IOException {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object o = parser.readObject();
            if (!(o instanceof PEMKeyPair pair) || pair.getPublicKeyInfo() == null) {
                throw new IOException("not a key pair in SEC1 PEM");
            }
            return new JcaPEMKeyConverter().getKeyPair(pair);
        }
    }
}
