package dev.weldr.tls;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Whether a certificate names a host, as RFC 6125 says a client checks a server: the
 * subjectAltName's DNS names, case-insensitive, a {@code *} only as the whole left-most label
 * and standing for exactly one label; its IP addresses for a host given as an address (never a
 * wildcard). The subject's common name is not looked at (RFC 6125 §6.4.4: not when there are
 * DNS names, and certificate authorities no longer put names only there).
 */
public final class PeerNames {

    private static final int DNS_NAME = 2;
    private static final int IP_ADDRESS = 7;
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private PeerNames() {
    }

    /** True when {@code certificate} names {@code host} (a DNS name, an IPv4 address or an IPv6 literal, bracketed or not). */
    public static boolean covers(X509Certificate certificate, String host) {
        if (host == null || host.isEmpty()) {
            return false;
        }
        Collection<List<?>> alt;
        try {
            alt = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return false;
        }
        if (alt == null) {
            return false;
        }
        byte[] address = address(host);
        for (List<?> entry : alt) {
            int type = (Integer) entry.get(0);
            String value = (String) entry.get(1);
            if (address != null ? type == IP_ADDRESS && java.util.Arrays.equals(address, address(value))
                    : type == DNS_NAME && dnsMatches(value, host)) {
                return true;
            }
        }
        return false;
    }

    /** The names a certificate covers, for messages: its DNS names and IP addresses. */
    public static List<String> of(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> alt = certificate.getSubjectAlternativeNames();
            if (alt != null) {
                for (List<?> entry : alt) {
                    int type = (Integer) entry.get(0);
                    if (type == DNS_NAME || type == IP_ADDRESS) {
                        names.add((String) entry.get(1));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // names nothing we can read
        }
        return names;
    }

    static boolean dnsMatches(String pattern, String host) {
        String p = trimDot(pattern.toLowerCase(Locale.ROOT));
        String h = trimDot(host.toLowerCase(Locale.ROOT));
        if (p.isEmpty() || h.isEmpty()) {
            return false;
        }
        if (!p.startsWith("*.")) {
            return p.equals(h);
        }
        String suffix = p.substring(1);
        // *.example.com: one label, so not example.com itself nor a.b.example.com; and never a
        // wildcard over a bare top-level domain (*.com).
        if (suffix.indexOf('.', 1) < 0 || suffix.contains("*")) {
            return false;
        }
        int dot = h.indexOf('.');
        return dot > 0 && h.substring(dot).equals(suffix);
    }

    private static String trimDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    /** The bytes of an address literal, or null when {@code host} is a name (never looked up). */
    static byte[] address(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (IPV4.matcher(h).matches()) {
            for (String octet : h.split("\\.")) {
                if (Integer.parseInt(octet) > 255) {
                    return null;
                }
            }
        } else if (!h.contains(":")) {
            return null;
        }
        try {
            // A literal: InetAddress parses it without a lookup.
            return InetAddress.getByName(h).getAddress();
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
