package dev.weldr.pool;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A backend's base URL, validated: http or https, a host, a port in 1..65535, and nothing
 * after the authority (weldr forwards the client's own path and query).
 */
public record ServerUrl(String scheme, String host, int port) {

    /** An authority's port, after a bracketed IPv6 literal or a host without colon. */
    private static final Pattern HOST_AND_PORT = Pattern.compile("(?:\\[[^]]*]|[^:\\[]*):(.*)");
    /** A host name with at least one underscore, and an optional port: {@code my_api:8080}. */
    private static final Pattern UNDERSCORED = Pattern.compile("([A-Za-z0-9.-]*_[A-Za-z0-9_.-]*)(?::([0-9]*))?");

    public static ServerUrl parse(String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidServerUrlException("url is required");
        }
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            throw new InvalidServerUrlException("url is not a valid URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!"http".equals(scheme) && !"https".equals(scheme)) {
            throw new InvalidServerUrlException("url scheme must be http or https");
        }
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isEmpty() || authority.startsWith(":") || authority.startsWith("@")) {
            throw new InvalidServerUrlException("url has no host");
        }
        String host = uri.getHost();
        int port = uri.getPort();
        if (host == null) {
            Matcher underscored = underscoredHost(authority);
            if (underscored == null) {
                // java.net.URI parses a bad authority as a "registry" one and leaves the host null:
                // blame the port only when it is the port that is wrong.
                Matcher hostAndPort = HOST_AND_PORT.matcher(authority);
                throw hostAndPort.matches() && !validPort(hostAndPort.group(1))
                        ? new InvalidServerUrlException("url port must be a number from 1 to 65535")
                        : new InvalidServerUrlException("url has no valid host");
            }
            host = underscored.group(1);
            String portText = underscored.group(2);
            port = portText == null || portText.isEmpty() ? -1 : validPort(portText) ? Integer.parseInt(portText) : 0;
        }
        if (uri.getRawUserInfo() != null) {
            throw new InvalidServerUrlException("url must not contain user information");
        }
        String path = uri.getRawPath();
        if ((path != null && !path.isEmpty() && !path.equals("/")) || uri.getRawQuery() != null
                || uri.getRawFragment() != null) {
            throw new InvalidServerUrlException("url must not have a path, query or fragment");
        }
        if (port == -1) {
            port = scheme.equals("https") ? 443 : 80;
        } else if (port < 1 || port > 65535) {
            throw new InvalidServerUrlException("url port must be a number from 1 to 65535");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = canonicalIpv6(host.substring(1, host.length() - 1));
        }
        return new ServerUrl(scheme, host.toLowerCase(Locale.ROOT), port);
    }

    /**
     * A host name with underscores, which java.net.URI refuses (RFC 2396) but RFC 3986 allows, DNS
     * serves and container platforms hand out (Docker Compose's {@code project_web_1}, service
     * names such as {@code my_api}); nginx and HAProxy take them. Labels of letters, digits,
     * {@code -} and {@code _}, none empty, longer than 63 or starting or ending with {@code -}.
     * Its match (group 1 the host, group 2 the port if any), or null when the authority is
     * something else, to be refused as before.
     */
    private static Matcher underscoredHost(String authority) {
        Matcher m = UNDERSCORED.matcher(authority);
        if (!m.matches() || m.group(1).length() > 253) {
            return null;
        }
        for (String label : m.group(1).split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                return null;
            }
        }
        return m;
    }

    /**
     * One spelling per IPv6 address (RFC 5952: lower case, no leading zeros, the longest run of
     * two or more zero groups as {@code ::}), so that {@code [0:0::1]} and {@code [::1]} are one server.
     */
    static String canonicalIpv6(String literal) {
        byte[] bytes;
        try {
            // A literal (it contains ':'), so this parses and never looks anything up.
            bytes = java.net.InetAddress.getByName("[" + literal + "]").getAddress();
        } catch (java.net.UnknownHostException e) {
            throw new InvalidServerUrlException("url has no valid host");
        }
        if (bytes.length != 16) {
            return literal.toLowerCase(Locale.ROOT);
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; i++) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = Math.max(i, j);
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }

    /** Empty (the scheme's default) or a number from 1 to 65535. */
    private static boolean validPort(String text) {
        if (text.isEmpty()) {
            return true;
        }
        if (!text.matches("[0-9]{1,5}")) {
            return false;
        }
        int port = Integer.parseInt(text);
        return port >= 1 && port <= 65535;
    }

    @Override
    public String toString() {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return scheme + "://" + h + ":" + port;
    }
}
