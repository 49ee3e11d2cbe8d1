package dev.weldr.cluster;

import dev.weldr.pool.Actor;
import dev.weldr.pool.AuditEntry;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Route;
import dev.weldr.pool.Server;
import dev.weldr.tls.CertificateBundle;
import dev.weldr.tls.InvalidCertificateException;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The audit record of a caller's change, made on the leader as it proposes the change. It names
 * what changed and never copies key material: a certificate is described by its names, expiry
 * and fingerprint, read from its public chain.
 */
final class AuditRecords {

    private AuditRecords() {
    }

    static AuditEntry of(PoolCommand command, Actor actor, long time) {
        if (command instanceof PoolCommand.AddServer c) {
            return entry(actor, time, "add-server", c.pool() + "/" + c.server().id(),
                    "added " + url(c.server()) + " to pool " + c.pool() + " (weight " + c.server().weight()
                            + (c.server().draining() ? ", draining" : "") + ")");
        }
        if (command instanceof PoolCommand.RemoveServer c) {
            String id = c.key().host() + ":" + c.key().port();
            return entry(actor, time, "remove-server", c.pool() + "/" + id, "removed " + id + " from pool " + c.pool());
        }
        if (command instanceof PoolCommand.UpdateServer c) {
            String id = c.key().host() + ":" + c.key().port();
            List<String> set = new ArrayList<>();
            if (c.weight() != null) {
                set.add("weight " + c.weight());
            }
            if (c.draining() != null) {
                set.add(c.draining() ? "draining" : "not draining");
            }
            return entry(actor, time, "update-server", c.pool() + "/" + id, "set " + String.join(", ", set) + " on " + id
                    + " in pool " + c.pool());
        }
        if (command instanceof PoolCommand.CreatePool c) {
            return entry(actor, time, "create-pool", c.name(), "created pool " + c.name() + ": " + settings(c.settings()));
        }
        if (command instanceof PoolCommand.UpdatePool c) {
            return entry(actor, time, "update-pool", c.name(), "set pool " + c.name() + " to " + settings(c.settings()));
        }
        if (command instanceof PoolCommand.DeletePool c) {
            return entry(actor, time, "delete-pool", c.name(), "deleted pool " + c.name());
        }
        if (command instanceof PoolCommand.PutRoute c) {
            Route r = c.route();
            return entry(actor, time, "put-route", r.name(), "route " + r.name() + ": host " + (r.host().isEmpty() ? "any" : r.host())
                    + ", path prefix " + r.pathPrefix() + " to pool " + r.pool() + (r.httpsRedirect() ? ", redirect to HTTPS" : "")
                    + (r.hsts() != null ? ", HSTS max-age " + r.hsts().maxAge() : ""));
        }
        if (command instanceof PoolCommand.DeleteRoute c) {
            return entry(actor, time, "delete-route", c.name(), "deleted route " + c.name());
        }
        if (command instanceof PoolCommand.PutCertificate c) {
            return entry(actor, time, "put-certificate", c.certificate().name(),
                    "uploaded certificate " + c.certificate().name() + described(c.certificate().chain()));
        }
        if (command instanceof PoolCommand.DeleteCertificate c) {
            return entry(actor, time, "delete-certificate", c.name(), "deleted certificate " + c.name());
        }
        if (command instanceof PoolCommand.PutManagedCertificate c) {
            return entry(actor, time, "request-certificate", c.managed().name(), "asked for certificate " + c.managed().name()
                    + " through ACME for " + names(c.managed().names()));
        }
        throw new IllegalArgumentException("not a caller's change: " + command.getClass().getSimpleName());
    }

    /** The record of a change that is not a pool command (membership, leadership), committed before it is carried out. */
    static AuditEntry request(Actor actor, long time, String action, String target, String summary) {
        return entry(actor, time, action, target, summary);
    }

    private static AuditEntry entry(Actor actor, long time, String action, String target, String summary) {
        return new AuditEntry(0, time, actor.token(), actor.node(), action, target, bounded(summary));
    }

    /**
     * Every replica keeps {@code Topology}'s cap of entries, in memory and in each snapshot, so an
     * entry is bounded too: a certificate may carry thousands of names, a route a long prefix.
     */
    static final int MAX_SUMMARY = 512;
    static final int NAMES_SHOWN = 5;

    private static String bounded(String summary) {
        return summary.length() <= MAX_SUMMARY ? summary : summary.substring(0, MAX_SUMMARY - 1) + "\u2026";
    }

    private static String names(List<String> names) {
        if (names.size() <= NAMES_SHOWN) {
            return String.join(", ", names);
        }
        return String.join(", ", names.subList(0, NAMES_SHOWN)) + " and " + (names.size() - NAMES_SHOWN) + " more";
    }

    private static String url(Server s) {
        return s.scheme() + "://" + s.id();
    }

    private static String settings(PoolSettings s) {
        return "policy " + s.policy().kind().name().toLowerCase(Locale.ROOT).replace('_', '-')
                + ", protocol " + s.protocol().wireName()
                + (s.tls().verify() ? "" : ", backend certificates not verified");
    }

    /** Names, expiry and fingerprint of the leaf: what identifies a certificate, never its key. */
    private static String described(String chain) {
        try {
            CertificateBundle.Info i = CertificateBundle.describe(chain);
            return " for " + names(i.names()) + ", valid until " + i.notAfter() + ", SHA-256 " + i.fingerprint();
        } catch (InvalidCertificateException e) {
            // Checked before it was proposed; a chain this version cannot describe is still recorded by name.
            return "";
        }
    }
}
