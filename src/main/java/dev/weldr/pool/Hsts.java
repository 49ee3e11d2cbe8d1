package dev.weldr.pool;

/**
 * A route's {@code Strict-Transport-Security} policy (RFC 6797), sent on its answers over HTTPS.
 *
 * @param maxAge            seconds a browser keeps to HTTPS for the host; 0 tells it to forget
 * @param includeSubDomains the policy covers every subdomain too
 * @param preload           asks to be put on the browsers' preload list (hstspreload.org)
 */
public record Hsts(long maxAge, boolean includeSubDomains, boolean preload) {

    /** hstspreload.org takes no max-age shorter than a year. */
    public static final long PRELOAD_MIN_AGE = 31_536_000;
    /** RFC 9111 §1.2.2's largest delta-seconds a recipient must take. */
    public static final long MAX_AGE = 2_147_483_648L;

    public Hsts {
        if (maxAge < 0 || maxAge > MAX_AGE) {
            throw new IllegalArgumentException("maxAge must be from 0 to " + MAX_AGE);
        }
    }

    /** The header's value, in the order and spelling hstspreload.org's own examples use. */
    public String value() {
        return "max-age=" + maxAge + (includeSubDomains ? "; includeSubDomains" : "") + (preload ? "; preload" : "");
    }
}
