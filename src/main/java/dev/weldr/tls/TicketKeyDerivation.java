package dev.weldr.tls;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * HKDF-Expand (RFC 5869) with HMAC-SHA256: a certificate's session-ticket key from the cluster's
 * (48 random bytes, already a uniformly random pseudorandom key) and the certificate's leaf.
 */
final class TicketKeyDerivation {

    private static final byte[] LABEL = "weldr session-ticket key ".getBytes(StandardCharsets.US_ASCII);

    private TicketKeyDerivation() {
    }

    static byte[] derive(byte[] clusterKey, byte[] certificate, int length) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(clusterKey, "HmacSHA256"));
            ByteArrayOutputStream out = new ByteArrayOutputStream(length + 32);
            byte[] previous = new byte[0];
            for (int counter = 1; out.size() < length; counter++) {
                mac.update(previous);
                mac.update(LABEL);
                mac.update(certificate);
                mac.update((byte) counter);
                previous = mac.doFinal();
                out.write(previous, 0, previous.length);
            }
            byte[] all = out.toByteArray();
            return Arrays.copyOf(all, length);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
