package dev.weldr.tls;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How private keys are stored in the Raft log and snapshots. Without {@code weldr.tls.store-key}
 * a key is stored as the PEM it came as. With it, the key is sealed with AES-256-GCM under a key
 * derived from the secret with PBKDF2-HMAC-SHA256 (600,000 iterations, OWASP's figure): a random
 * 96-bit nonce per key, the certificate's name as associated data (a sealed key cannot be moved
 * to another certificate), as {@code sealed:v1:<salt>:<nonce>:<ciphertext>} in Base64. The salt
 * is drawn once per process, so a node derives one key for what it seals and one per other salt
 * it reads, each once.
 */
public final class KeySeal {

    static final String PREFIX = "sealed:v1:";
    private static final int ITERATIONS = 600_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final char[] secret;
    private final byte[] salt = new byte[16];
    private final Map<String, SecretKey> derived = new ConcurrentHashMap<>();

    /** @param secret the store key, or null to store keys as PEM */
    public KeySeal(String secret) {
        this.secret = secret == null || secret.isEmpty() ? null : secret.toCharArray();
        RANDOM.nextBytes(salt);
    }

    public boolean sealing() {
        return secret != null;
    }

    /** Derives the key this node seals with now, at start-up, rather than in the first upload. */
    public void prepare() {
        if (secret != null) {
            key(salt);
        }
    }

    /** The key as it goes into the log: sealed when a store key is set, else the PEM itself. */
    public String seal(String certificateName, String pem) {
        if (secret == null) {
            return pem;
        }
        try {
            byte[] nonce = new byte[12];
            RANDOM.nextBytes(nonce);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key(salt), new GCMParameterSpec(128, nonce));
            cipher.updateAAD(certificateName.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = cipher.doFinal(pem.getBytes(StandardCharsets.UTF_8));
            Base64.Encoder b64 = Base64.getEncoder();
            return PREFIX + b64.encodeToString(salt) + ":" + b64.encodeToString(nonce) + ":" + b64.encodeToString(sealed);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available", e);
        }
    }

    /** The PEM of a stored key. */
    public String open(String certificateName, String stored) throws InvalidCertificateException {
        if (!stored.startsWith(PREFIX)) {
            return stored;
        }
        if (secret == null) {
            throw new InvalidCertificateException("its key is encrypted, and weldr.tls.store-key is not set on this node");
        }
        String[] parts = stored.substring(PREFIX.length()).split(":");
        try {
            Base64.Decoder b64 = Base64.getDecoder();
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key(b64.decode(parts[0])), new GCMParameterSpec(128, b64.decode(parts[1])));
            cipher.updateAAD(certificateName.getBytes(StandardCharsets.UTF_8));
            return new String(cipher.doFinal(b64.decode(parts[2])), StandardCharsets.UTF_8);
        } catch (AEADBadTagException e) {
            throw new InvalidCertificateException("its key was encrypted with another weldr.tls.store-key than this node's");
        } catch (GeneralSecurityException | IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
            throw new InvalidCertificateException("its encrypted key is damaged");
        }
    }

    private SecretKey key(byte[] salt) {
        return derived.computeIfAbsent(Base64.getEncoder().encodeToString(salt), s -> {
            try {
                SecretKeyFactory f = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
                byte[] bytes = f.generateSecret(new PBEKeySpec(secret, salt, ITERATIONS, 256)).getEncoded();
                return new SecretKeySpec(bytes, "AES");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("PBKDF2WithHmacSHA256 is not available", e);
            }
        });
    }
}
