package dev.weldr.pool;

/**
 * What a route's host is, and what weldr accepts as the host of a URL it writes itself (an HTTPS
 * redirect): letters, digits, dots and hyphens, at most a DNS name's 253 characters.
 */
public final class HostName {

    /** A DNS name's limit. */
    public static final int MAX = 253;

    private HostName() {
    }

    public static boolean valid(String host) {
        if (host.isEmpty() || host.length() > MAX) {
            return false;
        }
        for (int i = 0; i < host.length(); i++) {
            if (!nameChar(host.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    public static boolean nameChar(int c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-';
    }
}
