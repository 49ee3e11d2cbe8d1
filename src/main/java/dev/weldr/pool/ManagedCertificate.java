package dev.weldr.pool;

import java.util.List;
import java.util.Set;

/**
 * A certificate weldr obtains and renews itself through ACME, as replicated: the names asked for,
 * where the work stands, and the order in progress. The certificate itself, once issued, is the
 * {@link Certificate} of the same name, served like an uploaded one. Only the leader changes
 * this record after it is created, and it writes the order's URL and key here before it asks the
 * CA for anything that depends on them, so that a new leader resumes that order instead of
 * placing a second one. Times are Unix milliseconds (0: none).
 *
 * @param order      the order in progress at the CA, or null
 * @param orderKey   the private key the order's certificate is for (PEM, sealed under the
 *                   certificate's name), or null; it becomes the certificate's key when issued
 * @param challenges what every node answers while the order is validated
 * @param error      why the last attempt failed, or null
 * @param nextAttempt when the leader may try again after a failure, or 0
 * @param failures   failed attempts in a row (the backoff's exponent)
 * @param renewAt    when the issued certificate is due for renewal, or 0 before one is issued
 * @param generation which request this is: set by {@link Topology#apply} when the names are put
 *                   (the Raft index before it, the same on every replica), so that progress made
 *                   for an earlier request of the same names (removed and asked again) never
 *                   lands on a later one
 */
public record ManagedCertificate(String name, List<String> names, State state, String order, String orderKey,
                                 List<AcmeChallenge> challenges, String error, long nextAttempt, int failures,
                                 long renewAt, long generation) {

    public enum State {
        /** Not issued yet for these names: being ordered. */
        PENDING,
        /** Issued and served; nothing to do before {@code renewAt}. */
        VALID,
        /** Due for renewal: a new certificate is being ordered while the current one is served. */
        RENEWING,
        /** The last attempt failed: {@code error} says why, {@code nextAttempt} when the next one is. */
        FAILED
    }

    public ManagedCertificate {
        names = List.copyOf(names);
        challenges = List.copyOf(challenges);
    }

    /** The state of the request of generation 0 (written before generations, and in tests of apply alone). */
    public ManagedCertificate(String name, List<String> names, State state, String order, String orderKey,
                              List<AcmeChallenge> challenges, String error, long nextAttempt, int failures, long renewAt) {
        this(name, names, state, order, orderKey, challenges, error, nextAttempt, failures, renewAt, 0);
    }

    /** What {@code PUT /certificates/{name}} with ACME asks for: an order as soon as the leader can. */
    public static ManagedCertificate requested(String name, List<String> names) {
        return new ManagedCertificate(name, names, State.PENDING, null, null, List.of(), null, 0, 0, 0, 0);
    }

    /** This request as the request of that generation. */
    public ManagedCertificate ofGeneration(long g) {
        return new ManagedCertificate(name, names, state, order, orderKey, challenges, error, nextAttempt, failures, renewAt, g);
    }

    /** The same names, in whatever order: a certificate covers a set of names. */
    public boolean sameNames(ManagedCertificate other) {
        return Set.copyOf(names).equals(Set.copyOf(other.names));
    }

    /** The next attempt now, with the backoff started afresh; the order, the error and the state stay until it is made. */
    public ManagedCertificate retryNow() {
        return new ManagedCertificate(name, names, state, order, orderKey, challenges, error, 0, 0, renewAt, generation);
    }

    public ManagedCertificate withState(State next) {
        return new ManagedCertificate(name, names, next, order, orderKey, challenges, error, nextAttempt, failures, renewAt,
                generation);
    }

    /** Never prints the order's key. */
    @Override
    public String toString() {
        return "ManagedCertificate{" + name + " " + names + " " + state + (order != null ? " " + order : "")
                + (error != null ? " error=" + error : "") + "}";
    }
}
