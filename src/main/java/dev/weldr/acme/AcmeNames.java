package dev.weldr.acme;

import dev.weldr.tls.CertificateBundle;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The names a managed certificate may ask for, checked before anything is stored or ordered. */
public final class AcmeNames {

    /** Let's Encrypt's limit of names per certificate; other public CAs allow as many or fewer. */
    public static final int MAX = 100;

    private AcmeNames() {
    }

    /**
     * The names as they are ordered (lower case, each once, in the order given), or an
     * {@link IllegalArgumentException} saying which name is wrong and why.
     */
    public static List<String> check(List<String> requested) {
        if (requested.isEmpty()) {
            throw new IllegalArgumentException("acme.names: at least one name is needed");
        }
        List<String> names = new ArrayList<>();
        for (String raw : requested) {
            String name = raw.toLowerCase(Locale.ROOT);
            if (name.startsWith("*.")) {
                throw new IllegalArgumentException("acme.names: " + raw + " is a wildcard, which only the dns-01 challenge can"
                        + " validate; weldr answers http-01 and tls-alpn-01: list the names instead");
            }
            if (!CertificateBundle.validName(name) || name.indexOf('.') < 0) {
                throw new IllegalArgumentException("acme.names: " + raw + " is not a DNS name of two labels or more"
                        + " (letters, digits and hyphens; an internationalized name in its xn-- form)");
            }
            if (Character.isDigit(name.charAt(name.length() - 1))) {
                // A name ending in a digit is an address or no public name: CAs refuse both.
                throw new IllegalArgumentException("acme.names: " + raw + " is an IP address or ends in a numeric label;"
                        + " a CA validates DNS names only");
            }
            if (!names.contains(name)) {
                names.add(name);
            }
        }
        if (names.size() > MAX) {
            throw new IllegalArgumentException("acme.names: " + names.size() + " names, more than the " + MAX
                    + " a certificate may have at Let's Encrypt; split them over several certificates");
        }
        return List.copyOf(names);
    }
}
