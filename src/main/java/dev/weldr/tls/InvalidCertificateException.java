package dev.weldr.tls;

/** A certificate or key that weldr will not serve; the message names the problem and never quotes the key. */
public final class InvalidCertificateException extends Exception {

    public InvalidCertificateException(String message) {
        super(message, null, false, false);
    }
}
