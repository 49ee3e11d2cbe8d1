package dev.weldr.pool;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The desired pool: an immutable, insertion-ordered set of servers keyed by host and port.
 * Every replica builds the same sequence of pools by applying the same commands through
 * {@link #apply(PoolCommand)}, the one pure function shared by the leader and the followers.
 */
public final class Topology {

    public static final Topology EMPTY = new Topology(0, Map.of(), Map.of());

    private final long appliedIndex;
    private final Map<ServerKey, Server> byKey;
    private final Map<String, String> nodes;

    private Topology(long appliedIndex, Map<ServerKey, Server> owned, Map<String, String> nodes) {
        this.appliedIndex = appliedIndex;
        this.byKey = Collections.unmodifiableMap(owned);
        this.nodes = Collections.unmodifiableMap(nodes);
    }

    /** A pool holding these servers, in this order (used when a snapshot is loaded). */
    public static Topology of(long appliedIndex, Collection<Server> servers) {
        return of(appliedIndex, servers, Map.of());
    }

    public static Topology of(long appliedIndex, Collection<Server> servers, Map<String, String> nodes) {
        Map<ServerKey, Server> map = new LinkedHashMap<>();
        for (Server s : servers) {
            map.put(s.key(), s);
        }
        return new Topology(appliedIndex, map, new TreeMap<>(nodes));
    }

    /** The Raft log index of the last command applied (0 for the empty pool). */
    public long appliedIndex() {
        return appliedIndex;
    }

    public Collection<Server> servers() {
        return byKey.values();
    }

    public Server get(ServerKey key) {
        return byKey.get(key);
    }

    public int size() {
        return byKey.size();
    }

    /** Each known node's Raft id and the URL of its admin API. */
    public Map<String, String> nodes() {
        return nodes;
    }

    public Topology withIndex(long index) {
        return new Topology(index, byKey, nodes);
    }

    /** Applies one command; never throws for a well-formed command, and never changes this pool. */
    public Outcome apply(PoolCommand command) {
        if (command instanceof PoolCommand.AddServer add) {
            Server server = add.server();
            Server existing = byKey.get(server.key());
            if (existing != null) {
                return new Outcome(this, Outcome.Result.ALREADY_EXISTS, existing);
            }
            Map<ServerKey, Server> next = new LinkedHashMap<>(byKey);
            next.put(server.key(), server);
            return new Outcome(new Topology(appliedIndex, next, nodes), Outcome.Result.APPLIED, server);
        }
        if (command instanceof PoolCommand.RemoveServer remove) {
            Server existing = byKey.get(remove.key());
            if (existing == null) {
                return new Outcome(this, Outcome.Result.NOT_FOUND, null);
            }
            Map<ServerKey, Server> next = new LinkedHashMap<>(byKey);
            next.remove(remove.key());
            return new Outcome(new Topology(appliedIndex, next, nodes), Outcome.Result.APPLIED, existing);
        }
        if (command instanceof PoolCommand.RegisterNode register) {
            Map<String, String> next = new TreeMap<>(nodes);
            next.put(register.nodeId(), register.adminUrl());
            return new Outcome(new Topology(appliedIndex, byKey, next), Outcome.Result.APPLIED, null);
        }
        throw new IllegalArgumentException("unknown command " + command);
    }

    @Override
    public boolean equals(Object o) {
        // Order matters: it is the round-robin order, and every replica must agree on it.
        return o instanceof Topology p && p.appliedIndex == appliedIndex
                && List.copyOf(p.byKey.values()).equals(List.copyOf(byKey.values())) && p.nodes.equals(nodes);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(appliedIndex) * 31 + byKey.hashCode();
    }

    @Override
    public String toString() {
        return "Topology{index=" + appliedIndex + ", servers=" + byKey.values() + ", nodes=" + nodes + "}";
    }
}
