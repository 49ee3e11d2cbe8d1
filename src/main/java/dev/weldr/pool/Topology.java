package dev.weldr.pool;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The desired state every replica holds: named pools of servers, routes to them, and where each
 * node's admin API answers, the certificates the HTTPS listener serves and its session-ticket keys,
 * the ACME account and managed certificates, and the audit log of the changes callers made. Every
 * replica builds the same sequence of topologies by applying the same commands through
 * {@link #apply(long, PoolCommand, AuditEntry)}, the one pure function shared by the leader and the
 * followers. Immutable; the default pool always exists.
 */
public final class Topology {

    /**
     * Caps on what the desired state holds, so that no client (a script gone wrong) grows every
     * replica's memory, snapshots and routing table without bound. Checked here, where every
     * replica applies the same commands in the same order, so they all refuse the same one.
     */
    public static final int MAX_POOLS = 1000;
    public static final int MAX_ROUTES = 10_000;
    /**
     * Session-ticket keys kept: the one that encrypts and two before it that still decrypt, so a
     * ticket outlives two rotations, and a key no more than three rotation periods.
     */
    public static final int MAX_TICKET_KEYS = 3;

    /** Certificates managed through ACME, like routes: a script gone wrong cannot grow them, nor the CA's orders, without bound. */
    public static final int MAX_MANAGED = 1000;

    /**
     * Audit entries kept, the newest: at a few hundred bytes each, about half a megabyte in every
     * replica's memory and snapshot, and months of changes for a cluster changed by hand or by a
     * deployment pipeline. Longer history belongs in the log lines, one per change, shipped to
     * wherever the operator keeps logs. A constant, not a setting: every replica must trim the
     * same entries, so that their states stay identical.
     */
    public static final int MAX_AUDIT = 2000;

    public static final Topology EMPTY = new Topology(0, List.of(),
            Map.of(Pool.DEFAULT, Pool.of(Pool.DEFAULT, PoolSettings.DEFAULTS, List.of())), List.of(), Map.of(), Map.of(), List.of(),
            null, Map.of());

    private final long appliedIndex;
    private final List<AuditEntry> audit;
    private final Map<String, Pool> pools;
    private final List<Route> routes;
    private final Map<String, String> nodes;
    private final Map<String, Certificate> certificates;
    private final List<TicketKey> ticketKeys;
    private final AcmeAccount acmeAccount;
    private final Map<String, ManagedCertificate> managed;

    private Topology(long appliedIndex, List<AuditEntry> audit, Map<String, Pool> pools, List<Route> routes, Map<String, String> nodes,
                     Map<String, Certificate> certificates, List<TicketKey> ticketKeys, AcmeAccount acmeAccount,
                     Map<String, ManagedCertificate> managed) {
        this.appliedIndex = appliedIndex;
        this.audit = audit;
        this.pools = Collections.unmodifiableMap(pools);
        this.routes = List.copyOf(routes);
        this.nodes = Collections.unmodifiableMap(nodes);
        this.certificates = Collections.unmodifiableMap(certificates);
        this.ticketKeys = ticketKeys;
        this.acmeAccount = acmeAccount;
        this.managed = Collections.unmodifiableMap(managed);
    }

    /** A topology as a snapshot holds it. */
    public static Topology of(long appliedIndex, Collection<Pool> pools, List<Route> routes, Map<String, String> nodes) {
        return of(appliedIndex, pools, routes, nodes, List.of());
    }

    /** A topology as a snapshot holds it, with its certificates. */
    public static Topology of(long appliedIndex, Collection<Pool> pools, List<Route> routes, Map<String, String> nodes,
                              Collection<Certificate> certificates) {
        return of(appliedIndex, pools, routes, nodes, certificates, List.of());
    }

    /** A topology as a snapshot holds it, with its certificates and session-ticket keys (newest first). */
    public static Topology of(long appliedIndex, Collection<Pool> pools, List<Route> routes, Map<String, String> nodes,
                              Collection<Certificate> certificates, List<TicketKey> ticketKeys) {
        return of(appliedIndex, pools, routes, nodes, certificates, ticketKeys, null, List.of());
    }

    /** A topology as a snapshot holds it, with its ACME account (or null) and managed certificates. */
    public static Topology of(long appliedIndex, Collection<Pool> pools, List<Route> routes, Map<String, String> nodes,
                              Collection<Certificate> certificates, List<TicketKey> ticketKeys, AcmeAccount acmeAccount,
                              Collection<ManagedCertificate> managed) {
        return of(appliedIndex, pools, routes, nodes, certificates, ticketKeys, acmeAccount, managed, List.of());
    }

    /** A topology as a snapshot holds it, with its audit log (oldest first; past {@link #MAX_AUDIT}, the oldest go). */
    public static Topology of(long appliedIndex, Collection<Pool> pools, List<Route> routes, Map<String, String> nodes,
                              Collection<Certificate> certificates, List<TicketKey> ticketKeys, AcmeAccount acmeAccount,
                              Collection<ManagedCertificate> managed, List<AuditEntry> audit) {
        Map<String, Pool> map = new LinkedHashMap<>();
        for (Pool p : pools) {
            map.put(p.name(), p);
        }
        map.putIfAbsent(Pool.DEFAULT, EMPTY.defaultPool());
        Map<String, Certificate> certs = new TreeMap<>();
        for (Certificate c : certificates) {
            certs.put(c.name(), c);
        }
        Map<String, ManagedCertificate> acme = new TreeMap<>();
        for (ManagedCertificate m : managed) {
            acme.put(m.name(), m);
        }
        List<AuditEntry> kept = List.copyOf(audit.subList(Math.max(0, audit.size() - MAX_AUDIT), audit.size()));
        return new Topology(appliedIndex, kept, map, routes, new TreeMap<>(nodes), certs,
                List.copyOf(ticketKeys.subList(0, Math.min(ticketKeys.size(), MAX_TICKET_KEYS))), acmeAccount, acme);
    }

    /** The Raft log index of the last command applied (0 for the empty topology). */
    public long appliedIndex() {
        return appliedIndex;
    }

    public Collection<Pool> pools() {
        return pools.values();
    }

    /** The pool of that name, or null. */
    public Pool pool(String name) {
        return pools.get(name);
    }

    public Pool defaultPool() {
        return pools.get(Pool.DEFAULT);
    }

    public List<Route> routes() {
        return routes;
    }

    /** Each known node's Raft id and the URL of its admin API. */
    public Map<String, String> nodes() {
        return nodes;
    }

    /** The certificates by name; the same map object until a certificate command changes it. */
    public Map<String, Certificate> certificates() {
        return certificates;
    }

    /**
     * The session-ticket keys, newest (the one that encrypts) first; the same list object until a
     * new key is added.
     */
    public List<TicketKey> ticketKeys() {
        return ticketKeys;
    }

    /** The cluster's ACME account, or null before the first managed certificate needed one. */
    public AcmeAccount acmeAccount() {
        return acmeAccount;
    }

    /** The certificates managed through ACME, by name; the same map object until an ACME command changes it. */
    public Map<String, ManagedCertificate> managed() {
        return managed;
    }

    /** The audit log, oldest first, at most {@link #MAX_AUDIT} entries, their ids increasing. */
    public List<AuditEntry> audit() {
        return audit;
    }

    public Topology withIndex(long index) {
        return new Topology(index, audit, pools, routes, nodes, certificates, ticketKeys, acmeAccount, managed);
    }

    /**
     * Applies the command of log entry {@code index}, with its audit record or null: the record is
     * kept, under that index, when the command changed something (applied; a refusal such as "no
     * such route" changes nothing and is not a change to audit).
     */
    public Outcome apply(long index, PoolCommand command, AuditEntry record) {
        Outcome outcome = apply(command);
        Topology next = outcome.topology();
        if (record != null && outcome.result() == Outcome.Result.APPLIED) {
            List<AuditEntry> kept = new ArrayList<>(Math.min(next.audit.size() + 1, MAX_AUDIT));
            kept.addAll(next.audit.subList(Math.max(0, next.audit.size() - MAX_AUDIT + 1), next.audit.size()));
            kept.add(record.at(index));
            next = new Topology(next.appliedIndex, List.copyOf(kept), next.pools, next.routes, next.nodes, next.certificates,
                    next.ticketKeys, next.acmeAccount, next.managed);
        }
        return new Outcome(next.withIndex(index), outcome.result(), outcome.server());
    }

    /** Applies one command; never throws for a well-formed command, and never changes this topology. */
    public Outcome apply(PoolCommand command) {
        if (command instanceof PoolCommand.AddServer c) {
            Pool pool = pools.get(c.pool());
            if (pool == null) {
                return refused(Outcome.Result.NO_SUCH_POOL);
            }
            Server existing = pool.get(c.server().key());
            if (existing != null) {
                return new Outcome(this, Outcome.Result.ALREADY_EXISTS, existing);
            }
            // Checked where every replica applies commands in one order, so that a server added while a
            // PATCH changes the protocol cannot slip past both.
            if (!pool.settings().protocol().accepts(c.server().scheme())) {
                return new Outcome(this, Outcome.Result.WRONG_SCHEME, c.server());
            }
            return new Outcome(withPool(pool.with(c.server())), Outcome.Result.APPLIED, c.server());
        }
        if (command instanceof PoolCommand.RemoveServer c) {
            Pool pool = pools.get(c.pool());
            if (pool == null) {
                return refused(Outcome.Result.NO_SUCH_POOL);
            }
            Server existing = pool.get(c.key());
            if (existing == null) {
                return refused(Outcome.Result.NOT_FOUND);
            }
            return new Outcome(withPool(pool.without(c.key())), Outcome.Result.APPLIED, existing);
        }
        if (command instanceof PoolCommand.UpdateServer c) {
            Pool pool = pools.get(c.pool());
            if (pool == null) {
                return refused(Outcome.Result.NO_SUCH_POOL);
            }
            Server existing = pool.get(c.key());
            if (existing == null) {
                return refused(Outcome.Result.NOT_FOUND);
            }
            Server updated = new Server(existing.scheme(), existing.host(), existing.port(),
                    c.weight() == null ? existing.weight() : c.weight(),
                    c.draining() == null ? existing.draining() : c.draining());
            return new Outcome(withPool(pool.with(updated)), Outcome.Result.APPLIED, updated);
        }
        if (command instanceof PoolCommand.CreatePool c) {
            if (pools.containsKey(c.name())) {
                return refused(Outcome.Result.ALREADY_EXISTS);
            }
            if (pools.size() >= MAX_POOLS) {
                return refused(Outcome.Result.TOO_MANY);
            }
            return new Outcome(withPool(Pool.of(c.name(), c.settings(), List.of())), Outcome.Result.APPLIED, null);
        }
        if (command instanceof PoolCommand.UpdatePool c) {
            Pool pool = pools.get(c.name());
            if (pool == null) {
                return refused(Outcome.Result.NO_SUCH_POOL);
            }
            for (Server server : pool.servers()) {
                if (!c.settings().protocol().accepts(server.scheme())) {
                    return new Outcome(this, Outcome.Result.WRONG_SCHEME, server);
                }
            }
            return new Outcome(withPool(pool.withSettings(c.settings())), Outcome.Result.APPLIED, null);
        }
        if (command instanceof PoolCommand.DeletePool c) {
            if (!pools.containsKey(c.name())) {
                return refused(Outcome.Result.NO_SUCH_POOL);
            }
            if (c.name().equals(Pool.DEFAULT) || routes.stream().anyMatch(r -> r.pool().equals(c.name()))) {
                return refused(Outcome.Result.IN_USE);
            }
            Map<String, Pool> next = new LinkedHashMap<>(pools);
            next.remove(c.name());
            return new Outcome(new Topology(appliedIndex, audit, next, routes, nodes, certificates, ticketKeys, acmeAccount, managed), Outcome.Result.APPLIED, null);
        }
        if (command instanceof PoolCommand.PutRoute c) {
            if (!pools.containsKey(c.route().pool())) {
                return refused(Outcome.Result.NO_SUCH_POOL);
            }
            List<Route> next = new ArrayList<>(routes);
            if (!next.removeIf(r -> r.name().equals(c.route().name())) && routes.size() >= MAX_ROUTES) {
                return refused(Outcome.Result.TOO_MANY);
            }
            next.add(c.route());
            return new Outcome(new Topology(appliedIndex, audit, pools, next, nodes, certificates, ticketKeys, acmeAccount, managed), Outcome.Result.APPLIED, null);
        }
        if (command instanceof PoolCommand.DeleteRoute c) {
            List<Route> next = new ArrayList<>(routes);
            if (!next.removeIf(r -> r.name().equals(c.name()))) {
                return refused(Outcome.Result.NOT_FOUND);
            }
            return new Outcome(new Topology(appliedIndex, audit, pools, next, nodes, certificates, ticketKeys, acmeAccount, managed), Outcome.Result.APPLIED, null);
        }
        if (command instanceof PoolCommand.RegisterNode c) {
            Map<String, String> next = new TreeMap<>(nodes);
            next.put(c.nodeId(), c.adminUrl());
            return new Outcome(new Topology(appliedIndex, audit, pools, routes, next, certificates, ticketKeys, acmeAccount, managed), Outcome.Result.APPLIED, null);
        }
        if (command instanceof PoolCommand.PutCertificate c) {
            Map<String, Certificate> next = new TreeMap<>(certificates);
            next.put(c.certificate().name(), c.certificate());
            return new Outcome(new Topology(appliedIndex, audit, pools, routes, nodes, next, ticketKeys, acmeAccount,
                    withoutManaged(c.certificate().name())), Outcome.Result.APPLIED, null);
        }
        if (command instanceof PoolCommand.DeleteCertificate c) {
            if (!certificates.containsKey(c.name()) && !managed.containsKey(c.name())) {
                return refused(Outcome.Result.NOT_FOUND);
            }
            Map<String, Certificate> next = certificates;
            if (certificates.containsKey(c.name())) {
                next = new TreeMap<>(certificates);
                next.remove(c.name());
            }
            return new Outcome(new Topology(appliedIndex, audit, pools, routes, nodes, next, ticketKeys, acmeAccount,
                    withoutManaged(c.name())), Outcome.Result.APPLIED, null);
        }
        if (command instanceof PoolCommand.PutManagedCertificate c) {
            ManagedCertificate existing = managed.get(c.managed().name());
            if (existing != null && existing.sameNames(c.managed())) {
                if (existing.state() != ManagedCertificate.State.FAILED || existing.nextAttempt() == 0) {
                    return new Outcome(this, Outcome.Result.ALREADY_EXISTS, null);
                }
                // Asked again after a failure: try now (its cause may be fixed), keeping any order and the certificate served.
                Map<String, ManagedCertificate> next = new TreeMap<>(managed);
                next.put(existing.name(), existing.retryNow());
                return new Outcome(new Topology(appliedIndex, audit, pools, routes, nodes, certificates, ticketKeys, acmeAccount, next),
                        Outcome.Result.APPLIED, null);
            }
            if (existing == null && managed.size() >= MAX_MANAGED) {
                return refused(Outcome.Result.TOO_MANY);
            }
            Map<String, ManagedCertificate> next = new TreeMap<>(managed);
            next.put(c.managed().name(), c.managed().ofGeneration(appliedIndex));
            return new Outcome(new Topology(appliedIndex, audit, pools, routes, nodes, certificates, ticketKeys, acmeAccount, next),
                    Outcome.Result.APPLIED, null);
        }
        if (command instanceof PoolCommand.AcmeProgress c) {
            ManagedCertificate existing = managed.get(c.managed().name());
            if (existing == null || existing.generation() != c.managed().generation() || !existing.sameNames(c.managed())) {
                return refused(Outcome.Result.NOT_FOUND);
            }
            Map<String, ManagedCertificate> next = new TreeMap<>(managed);
            next.put(c.managed().name(), c.managed());
            Map<String, Certificate> certs = certificates;
            if (c.issued() != null) {
                certs = new TreeMap<>(certificates);
                certs.put(c.issued().name(), c.issued());
            }
            return new Outcome(new Topology(appliedIndex, audit, pools, routes, nodes, certs, ticketKeys, acmeAccount, next),
                    Outcome.Result.APPLIED, null);
        }
        if (command instanceof PoolCommand.PutAcmeAccount c) {
            return new Outcome(new Topology(appliedIndex, audit, pools, routes, nodes, certificates, ticketKeys, c.account(), managed),
                    Outcome.Result.APPLIED, null);
        }
        if (command instanceof PoolCommand.AddTicketKey c) {
            List<TicketKey> next = new ArrayList<>(MAX_TICKET_KEYS);
            next.add(c.key());
            next.addAll(ticketKeys.subList(0, Math.min(ticketKeys.size(), MAX_TICKET_KEYS - 1)));
            return new Outcome(new Topology(appliedIndex, audit, pools, routes, nodes, certificates, List.copyOf(next), acmeAccount, managed),
                    Outcome.Result.APPLIED, null);
        }
        if (command instanceof PoolCommand.RecordAudit) {
            return new Outcome(this, Outcome.Result.APPLIED, null);
        }
        throw new IllegalArgumentException("unknown command " + command);
    }

    private Outcome refused(Outcome.Result result) {
        return new Outcome(this, result, null);
    }

    private Map<String, ManagedCertificate> withoutManaged(String name) {
        if (!managed.containsKey(name)) {
            return managed;
        }
        Map<String, ManagedCertificate> next = new TreeMap<>(managed);
        next.remove(name);
        return next;
    }

    private Topology withPool(Pool pool) {
        Map<String, Pool> next = new LinkedHashMap<>(pools);
        next.put(pool.name(), pool);
        return new Topology(appliedIndex, audit, next, routes, nodes, certificates, ticketKeys, acmeAccount, managed);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Topology t && t.appliedIndex == appliedIndex
                && List.copyOf(t.pools.values()).equals(List.copyOf(pools.values()))
                && t.routes.equals(routes) && t.nodes.equals(nodes) && t.certificates.equals(certificates)
                && t.ticketKeys.equals(ticketKeys) && Objects.equals(t.acmeAccount, acmeAccount)
                && t.managed.equals(managed) && t.audit.equals(audit);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(appliedIndex) * 31 + pools.hashCode();
    }

    @Override
    public String toString() {
        return "Topology{index=" + appliedIndex + ", pools=" + pools.values() + ", routes=" + routes + ", nodes=" + nodes
                + ", certificates=" + certificates.keySet() + ", ticketKeys=" + ticketKeys + ", managed=" + managed.values() + ", audit=" + audit.size() + " entries}";
    }
}
