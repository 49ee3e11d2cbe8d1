package dev.weldr.tls;

import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The log lines of certificates about to expire: a warning when one has less than
 * {@link #WARN_BEFORE} left, at most once a day per certificate, and an error once when it has
 * expired. Every node logs them, as every node serves the certificate (and a leader-only line
 * would be lost with the leader that was to write it). A certificate is its name and leaf: a
 * renewal uploaded under the same name is a new certificate, that warns afresh if it too expires soon.
 */
final class ExpiryWarnings {

    private static final Logger LOG = Logger.getLogger(ExpiryWarnings.class);
    /** Let's Encrypt's expiry mails start 20 days before; certbot renews at 30: 14 days left means renewal failed. */
    static final Duration WARN_BEFORE = Duration.ofDays(14);
    static final Duration WARN_EVERY = Duration.ofDays(1);

    private final Clock clock;
    /** Name and fingerprint of each certificate warned about, and when. */
    private final Map<String, Instant> warned = new HashMap<>();
    private final Set<String> expired = new HashSet<>();

    ExpiryWarnings(Clock clock) {
        this.clock = clock;
    }

    void check(Collection<SniTable.Served> served) {
        check(served, Set.of());
    }

    /** {@code managed}: the names of certificates weldr renews through ACME, whose lines say where to look instead. */
    void check(Collection<SniTable.Served> served, Set<String> managed) {
        Instant now = clock.instant();
        Set<String> current = new HashSet<>();
        for (SniTable.Served s : served) {
            CertificateBundle.Info info = s.info();
            String key = s.name() + " " + info.fingerprint();
            current.add(key);
            String names = info.names().isEmpty() ? "no host name" : String.join(", ", info.names());
            if (!now.isBefore(info.notAfter())) {
                if (expired.add(key)) {
                    LOG.errorf("certificate %s (%s) expired on %s, %s ago: clients refuse it; %s", s.name(), names,
                            info.notAfter(), human(Duration.between(info.notAfter(), now)), advice(s.name(), managed));
                }
                continue;
            }
            Duration left = Duration.between(now, info.notAfter());
            Instant last = warned.get(key);
            if (left.compareTo(WARN_BEFORE) < 0 && (last == null || !now.isBefore(last.plus(WARN_EVERY)))) {
                warned.put(key, now);
                LOG.warnf("certificate %s (%s) expires in %s, on %s: %s", s.name(), names, human(left), info.notAfter(),
                        advice(s.name(), managed));
            }
        }
        warned.keySet().retainAll(current);
        expired.retainAll(current);
    }

    private static String advice(String name, Set<String> managed) {
        return managed.contains(name)
                ? "its ACME renewal has not succeeded yet: GET /certificates/" + name + " says why"
                : "upload its renewal (PUT /certificates/" + name + ")";
    }

    /** "9 days 23 hours", "5 hours 12 minutes", "42 minutes": enough to act on, no more. */
    static String human(Duration d) {
        long days = d.toDays();
        long hours = d.toHoursPart();
        long minutes = d.toMinutesPart();
        if (days > 0) {
            return days + (days == 1 ? " day " : " days ") + hours + (hours == 1 ? " hour" : " hours");
        }
        if (hours > 0) {
            return hours + (hours == 1 ? " hour " : " hours ") + minutes + (minutes == 1 ? " minute" : " minutes");
        }
        return minutes + (minutes == 1 ? " minute" : " minutes");
    }
}
