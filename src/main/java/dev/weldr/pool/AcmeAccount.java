package dev.weldr.pool;

/**
 * The cluster's one ACME account, as replicated: the CA's directory it was registered with, the
 * contact it gave, its URL at the CA ({@code location}, null until the CA made it) and its key
 * pair as PEM, sealed like a certificate's key (see {@code dev.weldr.tls.KeySeal}). Every leader
 * signs with this key, so a new leader carries on the old one's orders.
 */
public record AcmeAccount(String directory, String email, String location, String key) {

    /** The name the account key is sealed under: no certificate can have it (it is not a certificate name). */
    public static final String SEAL_NAME = "acme-account:";

    /** Never prints the key. */
    @Override
    public String toString() {
        return "AcmeAccount{" + directory + ", " + location + "}";
    }
}
