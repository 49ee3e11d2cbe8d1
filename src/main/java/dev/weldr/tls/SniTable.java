package dev.weldr.tls;

import io.netty.handler.ssl.SslContext;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Which certificate a handshake gets, by the server name the client sent (SNI): the certificate
 * naming it exactly, else the one whose wildcard covers it ({@code *.example.com} covers one
 * label: {@code a.example.com}, not {@code example.com} nor {@code a.b.example.com}, as browsers
 * check it), else the default certificate, else a context that refuses the name. Where two
 * certificates name the same host, the one that stays valid longest wins (a replacement uploaded
 * under a new name takes over at once). Immutable; built off the event loops and swapped whole.
 */
public final class SniTable {

    /** A certificate as the listener serves it. */
    public record Served(String name, CertificateBundle.Info info, SslContext context) {
    }

    private final Map<String, Served> exact;
    private final Map<String, Served> wildcards;
    private final Served fallback;
    private final SslContext refusing;
    private final Set<String> served;
    private final List<Served> all;

    SniTable(Collection<Served> served, String defaultName, SslContext refusing) {
        Map<String, Served> exact = new HashMap<>();
        Map<String, Served> wildcards = new HashMap<>();
        Served fallback = null;
        Set<String> names = new HashSet<>();
        for (Served s : served) {
            names.add(s.name());
            for (String name : s.info().names()) {
                if (name.startsWith("*.")) {
                    wildcards.merge(name.substring(2), s, SniTable::longer);
                } else {
                    exact.merge(name, s, SniTable::longer);
                }
            }
            if (s.name().equals(defaultName)) {
                fallback = s;
            }
        }
        this.exact = Map.copyOf(exact);
        this.wildcards = Map.copyOf(wildcards);
        this.fallback = fallback;
        this.refusing = refusing;
        this.served = Set.copyOf(names);
        this.all = List.copyOf(served);
    }

    /** Every certificate served. */
    public List<Served> all() {
        return all;
    }

    /** Whether the certificate of that name is served (it may be stored and not served: a key this node cannot open). */
    public boolean served(String certificateName) {
        return served.contains(certificateName);
    }

    private static Served longer(Served a, Served b) {
        int c = a.info().notAfter().compareTo(b.info().notAfter());
        return c > 0 || c == 0 && a.name().compareTo(b.name()) <= 0 ? a : b;
    }

    /** The certificate for this server name (null when the client sent none), or null when none covers it. */
    public Served find(String serverName) {
        if (serverName != null && !serverName.isEmpty()) {
            String host = serverName.toLowerCase(Locale.ROOT);
            if (host.endsWith(".")) {
                host = host.substring(0, host.length() - 1);
            }
            Served s = exact.get(host);
            if (s != null) {
                return s;
            }
            int dot = host.indexOf('.');
            if (dot > 0) {
                s = wildcards.get(host.substring(dot + 1));
                if (s != null) {
                    return s;
                }
            }
        }
        return fallback;
    }

    /** The context a handshake for this server name gets; never null. */
    public SslContext select(String serverName) {
        Served s = find(serverName);
        return s != null ? s.context() : refusing;
    }
}
