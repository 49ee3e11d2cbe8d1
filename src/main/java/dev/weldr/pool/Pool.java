package dev.weldr.pool;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A named, insertion-ordered set of servers with its settings. Immutable. */
public final class Pool {

    public static final String DEFAULT = "default";

    private final String name;
    private final PoolSettings settings;
    private final Map<ServerKey, Server> servers;

    private Pool(String name, PoolSettings settings, Map<ServerKey, Server> owned) {
        this.name = name;
        this.settings = settings;
        this.servers = Collections.unmodifiableMap(owned);
    }

    public static Pool of(String name, PoolSettings settings, Collection<Server> servers) {
        Map<ServerKey, Server> map = new LinkedHashMap<>();
        for (Server s : servers) {
            map.put(s.key(), s);
        }
        return new Pool(name, settings, map);
    }

    public String name() {
        return name;
    }

    public PoolSettings settings() {
        return settings;
    }

    public Collection<Server> servers() {
        return servers.values();
    }

    public Server get(ServerKey key) {
        return servers.get(key);
    }

    public int size() {
        return servers.size();
    }

    Pool with(Server server) {
        Map<ServerKey, Server> next = new LinkedHashMap<>(servers);
        next.put(server.key(), server);
        return new Pool(name, settings, next);
    }

    Pool without(ServerKey key) {
        Map<ServerKey, Server> next = new LinkedHashMap<>(servers);
        next.remove(key);
        return new Pool(name, settings, next);
    }

    Pool withSettings(PoolSettings next) {
        return new Pool(name, next, servers);
    }

    @Override
    public boolean equals(Object o) {
        // Order matters: it is the round-robin order, and every replica must agree on it.
        return o instanceof Pool p && p.name.equals(name) && p.settings.equals(settings)
                && List.copyOf(p.servers.values()).equals(List.copyOf(servers.values()));
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + servers.hashCode();
    }

    @Override
    public String toString() {
        return "Pool{" + name + ", " + settings.policy().kind() + ", servers=" + servers.values() + "}";
    }
}
