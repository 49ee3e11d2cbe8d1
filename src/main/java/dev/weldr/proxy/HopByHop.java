package dev.weldr.proxy;

import java.util.List;

/**
 * RFC 9110 §7.6.1: headers that concern one connection and must not be forwarded, and the few
 * headers a proxy rewrites. A name is classified once, without allocating: the hot path looks at
 * every header of every request and response.
 */
final class HopByHop {

    /** An end-to-end header: forwarded as it is. */
    static final int FORWARD = 0;
    /** Connection, Keep-Alive, TE, Transfer-Encoding, …: never forwarded. */
    static final int HOP = 1;
    static final int HOST = 2;
    static final int VIA = 3;
    static final int X_FORWARDED_FOR = 4;
    static final int X_FORWARDED_PROTO = 5;
    static final int X_FORWARDED_HOST = 6;
    static final int DATE = 7;
    static final int EXPECT = 8;
    /** Hop-by-hop too, but it decides how the body is framed: the proxy sets it itself. */
    static final int TRANSFER_ENCODING = 9;

    private HopByHop() {
    }

    static int kind(String name) {
        switch (name.length()) {
            case 2:
                return is(name, "te") ? HOP : FORWARD;
            case 3:
                return is(name, "via") ? VIA : FORWARD;
            case 4:
                if (is(name, "host")) {
                    return HOST;
                }
                return is(name, "date") ? DATE : FORWARD;
            case 6:
                return is(name, "expect") ? EXPECT : FORWARD;
            case 7:
                return is(name, "trailer") || is(name, "upgrade") ? HOP : FORWARD;
            case 10:
                return is(name, "connection") || is(name, "keep-alive") ? HOP : FORWARD;
            case 15:
                return is(name, "x-forwarded-for") ? X_FORWARDED_FOR : FORWARD;
            case 16:
                if (is(name, "proxy-connection")) {
                    return HOP;
                }
                if (is(name, "x-forwarded-host")) {
                    return X_FORWARDED_HOST;
                }
                return FORWARD;
            case 17:
                if (is(name, "transfer-encoding")) {
                    return TRANSFER_ENCODING;
                }
                return is(name, "x-forwarded-proto") ? X_FORWARDED_PROTO : FORWARD;
            case 18:
                return is(name, "proxy-authenticate") ? HOP : FORWARD;
            case 19:
                return is(name, "proxy-authorization") ? HOP : FORWARD;
            default:
                return FORWARD;
        }
    }

    /** ASCII case-insensitive equality of a header name (a token: no byte that |0x20 could confuse) and a same-length lower-case name. */
    private static boolean is(String name, String lower) {
        for (int i = 0; i < lower.length(); i++) {
            char c = name.charAt(i);
            if (c != lower.charAt(i) && (c | 0x20) != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** The header names a Connection header lists (they are hop-by-hop too), or null when none. */
    static List<String> named(List<String> connectionValues) {
        List<String> names = null;
        for (String value : connectionValues) {
            int start = 0;
            while (start <= value.length()) {
                int comma = value.indexOf(',', start);
                int end = comma < 0 ? value.length() : comma;
                String token = value.substring(start, end).trim();
                if (!token.isEmpty() && !token.equalsIgnoreCase("close") && !token.equalsIgnoreCase("keep-alive")) {
                    if (names == null) {
                        names = new java.util.ArrayList<>(2);
                    }
                    names.add(token);
                }
                start = end + 1;
            }
        }
        return names;
    }

    static boolean listed(List<String> names, String name) {
        if (names != null) {
            for (String n : names) {
                if (n.equalsIgnoreCase(name)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Joins list values (several lines of one field are one comma-separated list, RFC 9110 §5.3). */
    static StringBuilder join(StringBuilder list, String value) {
        if (value.isBlank()) {
            return list;
        }
        if (list == null) {
            list = new StringBuilder(value.length() + 32);
        } else {
            list.append(", ");
        }
        return list.append(value.trim());
    }
}
