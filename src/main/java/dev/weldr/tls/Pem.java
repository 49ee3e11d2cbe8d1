package dev.weldr.tls;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

import java.io.IOException;
import java.io.StringReader;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads PEM text with BouncyCastle: certificates, and private keys in PKCS#8
 * ({@code PRIVATE KEY}), PKCS#1 ({@code RSA PRIVATE KEY}) or SEC1 ({@code EC PRIVATE KEY}) form.
 * Errors never quote the input: it may be a key.
 */
final class Pem {

    /** More certificates than any real chain has (leaf, two intermediates, a cross-sign). */
    static final int MAX_CHAIN = 10;

    private Pem() {
    }

    static List<X509Certificate> certificates(String pem) throws InvalidCertificateException {
        return certificates(pem, "chain", MAX_CHAIN, "; send the key in \"key\"");
    }

    /** The certificates of {@code field}, at most {@code max}; errors name the field, {@code hint} ends the "not a certificate" one. */
    static List<X509Certificate> certificates(String pem, String field, int max, String hint) throws InvalidCertificateException {
        List<X509Certificate> chain = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                if (!(o instanceof X509CertificateHolder holder)) {
                    throw new InvalidCertificateException(field + ": holds something other than CERTIFICATE blocks" + hint);
                }
                if (chain.size() == max) {
                    throw new InvalidCertificateException(field + ": more than " + max + " certificates");
                }
                chain.add(converter.getCertificate(holder));
            }
        } catch (IOException | CertificateException | IllegalArgumentException e) {
            throw new InvalidCertificateException(field + ": not valid PEM (a CERTIFICATE block could not be read)");
        }
        if (chain.isEmpty()) {
            throw new InvalidCertificateException(field + ": no PEM CERTIFICATE block found");
        }
        return chain;
    }

    static PrivateKey privateKey(String pem) throws InvalidCertificateException {
        Object found = null;
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                // openssl ecparam -genkey writes an EC PARAMETERS block before the key.
                if (o instanceof ASN1ObjectIdentifier || o instanceof X9ECParameters) {
                    continue;
                }
                if (found != null) {
                    throw new InvalidCertificateException("key: more than one PEM block; send exactly one private key");
                }
                found = o;
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new InvalidCertificateException("key: not valid PEM (the private key block could not be read)");
        }
        if (found instanceof PEMEncryptedKeyPair || found instanceof PKCS8EncryptedPrivateKeyInfo) {
            throw new InvalidCertificateException("key: encrypted with a passphrase; send it decrypted (openssl pkey -in key.pem)");
        }
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try {
            if (found instanceof PEMKeyPair pair) {
                return converter.getPrivateKey(pair.getPrivateKeyInfo());
            }
            if (found instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new InvalidCertificateException("key: the private key could not be decoded");
        }
        throw new InvalidCertificateException(found == null
                ? "key: no PEM private key found (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)"
                : "key: not a private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
    }
}
