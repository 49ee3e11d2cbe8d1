package dev.weldr.proxy;

import dev.weldr.cluster.PoolHolder;
import dev.weldr.events.EventLog;
import dev.weldr.health.StatusSetter;
import dev.weldr.pool.BackendTls;
import dev.weldr.pool.OutlierSpec;
import dev.weldr.pool.Pool;
import dev.weldr.pool.Server;
import dev.weldr.pool.ServerKey;
import dev.weldr.pool.Topology;
import dev.weldr.pool.BackendProtocol;
import dev.weldr.tls.BackendTrust;
import io.netty.handler.ssl.SslContext;
import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * Joins the replicated topology with this node's observations (active health checks, passive
 * ejections) into the routing table the proxy reads, swapped in with one volatile write whenever
 * either changes. The hot path never locks; every change here does, briefly.
 */
@Startup
@ApplicationScoped
public class BackendRegistry implements StatusSetter {

    private static final Logger LOG = Logger.getLogger(BackendRegistry.class);

    @Inject
    PoolHolder holder;
    @Inject
    Vertx vertx;
    @Inject
    EventLog events;

    private final Object lock = new Object();
    private Topology topology = Topology.EMPTY;
    /** pool name → server → backend; replaced whole on every change. */
    private volatile Map<String, Map<ServerKey, Backend>> backends = Map.of();
    private volatile RoutingTable table = RoutingTable.EMPTY;
    /**
     * One client context per distinct backend TLS setting of the pools that have {@code https://}
     * servers, built here (where Raft applies, never on an event loop) when a setting appears and
     * shared by every event loop; a setting no pool uses any more is dropped with its context.
     */
    private Map<ContextKey, SslContext> clientContexts = Map.of();

    /** A client context is made per TLS setting, and per protocol: an h2 pool's offers h2 in ALPN, and only it. */
    private record ContextKey(BackendTls tls, boolean h2) {
    }

    /** How often servers given by host name are looked up again (Envoy's strict DNS refreshes every 5 s). */
    static final long RESOLVE_EVERY_MS = 5000;
    private final ScheduledExecutorService resolver = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "weldr-resolver");
        t.setDaemon(true);
        return t;
    });

    @PostConstruct
    void init() {
        holder.subscribe(this::onTopology);
        resolver.scheduleWithFixedDelay(this::resolveNames, RESOLVE_EVERY_MS, RESOLVE_EVERY_MS, TimeUnit.MILLISECONDS);
    }

    @PreDestroy
    void stop() {
        resolver.shutdownNow();
    }

    /**
     * Looks every server given by host name up again (once per name), off the event loops: a
     * container that came back with a new address, or a name that did not resolve when its server
     * was added, is reached without re-adding the server. New connections go to the new address;
     * cached ones to the old are closed instead of reused.
     */
    void resolveNames() {
        Map<String, InetAddress[]> looked = new HashMap<>();
        for (Backend b : all()) {
            if (b.named() && b.current()) {
                take(b, looked.computeIfAbsent(b.server().host(), BackendRegistry::lookUp));
            }
        }
    }

    /**
     * Looks a server's name up now, on the resolver thread (never on an event loop, never where
     * Raft applies): for a server just added, and for a connection that finds its server's name
     * not resolved yet. One lookup at a time per server; the future completes when it is done.
     */
    CompletableFuture<Void> lookUp(Backend b) {
        return b.lookup(() -> CompletableFuture.runAsync(() -> take(b, lookUp(b.server().host())), resolver));
    }

    private static InetAddress[] lookUp(String host) {
        try {
            return InetAddress.getAllByName(host);
        } catch (UnknownHostException | SecurityException e) {
            return new InetAddress[0];
        }
    }

    /** A lookup's answer for a server: a new address is logged, and what traffic held against the old one forgotten. */
    private void take(Backend b, InetAddress[] found) {
        InetSocketAddress was = b.socketAddress();
        InetSocketAddress now = b.resolved(found);
        if (now != null) {
            LOG.infof("server %s of pool %s now resolves to %s (was %s)", b.id(), b.pool(),
                    now.getAddress().getHostAddress(), was.isUnresolved() ? "unresolved" : was.getAddress().getHostAddress());
            moved(b);
        }
    }

    /**
     * A server whose name moved is another host: what traffic held against the old address (a
     * run of failures, an ejection) is forgotten, as Envoy starts a new host afresh. Its active
     * health state stays: the checks now probe the new address and decide.
     */
    private void moved(Backend b) {
        synchronized (lock) {
            b.consecutiveFailures.set(0);
            b.ejections = 0;
            if (b.ejected()) {
                b.ejectedUntil(0, 0);
                b.readmittedAtNanos = System.nanoTime();
                rebuild();
                LOG.infof("server %s of pool %s readmitted: it has a new address", b.id(), b.pool());
                events.server(EventLog.Kind.READMITTED, b.pool(), b.id(), "it has a new address", 0);
            }
        }
    }

    /** Takes the replicated topology (and, for the warm-up's own registry, the sink's copy of it). */
    void onTopology(Topology next) {
        synchronized (lock) {
            Map<String, Map<ServerKey, Backend>> old = backends;
            Map<String, Map<ServerKey, Backend>> fresh = new LinkedHashMap<>();
            for (Pool pool : next.pools()) {
                Map<ServerKey, Backend> was = old.getOrDefault(pool.name(), Map.of());
                Map<ServerKey, Backend> now = new LinkedHashMap<>(pool.size() * 2);
                for (Server server : pool.servers()) {
                    Backend b = was.get(server.key());
                    if (b == null) {
                        b = new Backend(pool.name(), server);
                        if (b.named()) {
                            lookUp(b);
                        }
                    } else if (!b.server().equals(server)) {
                        b.server(server);
                    }
                    now.put(server.key(), b);
                }
                fresh.put(pool.name(), now);
            }
            boolean retired = false;
            for (Map<ServerKey, Backend> pool : old.values()) {
                for (Backend b : pool.values()) {
                    Map<ServerKey, Backend> now = fresh.get(b.pool());
                    if (now == null || now.get(b.server().key()) != b) {
                        b.retire();
                        retired = true;
                    }
                }
            }
            if (retired) {
                retirements++;
            }
            clientContexts = clientContexts(next, topology, clientContexts);
            topology = next;
            backends = fresh;
            rebuild();
            checkDescriptors(fresh);
        }
    }

    /**
     * The contexts the pools of {@code next} need, those of {@code built} reused; and one warning
     * per pool whose verification was just turned off (each node says it once, when it applies it).
     */
    private static Map<ContextKey, SslContext> clientContexts(Topology next, Topology previous, Map<ContextKey, SslContext> built) {
        Map<ContextKey, SslContext> contexts = new HashMap<>();
        for (Pool pool : next.pools()) {
            BackendTls tls = pool.settings().tls();
            Pool before = previous.pool(pool.name());
            if (!tls.verify() && (before == null || before.settings().tls().verify())) {
                LOG.warnf("pool %s: the TLS certificates of its https:// servers are not verified (tls.verify false):"
                        + " anyone on the way to them can read and change its traffic; give the pool its CA (tls.ca) instead", pool.name());
            }
            ContextKey key = new ContextKey(tls, pool.settings().protocol() == BackendProtocol.H2);
            if (contexts.containsKey(key) || pool.servers().stream().noneMatch(s -> "https".equals(s.scheme()))) {
                continue;
            }
            SslContext context = built.get(key);
            if (context == null) {
                try {
                    context = BackendTrust.clientContext(tls, key.h2());
                } catch (SSLException e) {
                    LOG.errorf("pool %s: no TLS connection to its https:// servers can be made: %s", pool.name(), e.getMessage());
                }
            }
            contexts.put(key, context);
        }
        return contexts;
    }

    /** How many changes removed servers: each event loop then closes their cached connections. */
    private volatile long retirements;

    long retirements() {
        return retirements;
    }

    private boolean descriptorsWarned;
    /** Read once: neither changes while the process runs. */
    private final int eventLoops = ProxyServer.eventLoops();
    private final long openFilesLimit = openFilesLimit();

    /** One warning when a pool grows past what this process's open-files limit can keep connected. */
    private void checkDescriptors(Map<String, Map<ServerKey, Backend>> pools) {
        long servers = 0;
        for (Map<ServerKey, Backend> pool : pools.values()) {
            servers += pool.size();
        }
        String warning = descriptorWarning(servers, eventLoops, openFilesLimit);
        if (warning != null && !descriptorsWarned) {
            LOG.warn(warning);
        }
        descriptorsWarned = warning != null;
    }

    /**
     * Idle backend connections are kept per server and event loop, in a
     * cache bounded by half the descriptors this process may open (see {@link ProxyServer#maxIdlePerLoop}):
     * when a pool could want more than that, the oldest idle connections are closed and requests
     * open new ones. Null while there is room.
     */
    static String descriptorWarning(long servers, int eventLoops, long openFilesLimit) {
        long need = servers * eventLoops;
        if (openFilesLimit <= 0 || need * 2 <= openFilesLimit) {
            return null;
        }
        return String.format("%d servers on %d event loops want up to %d backend connections kept open, but weldr keeps"
                + " at most half of the %d files this process may open, so some requests will pay for a new connection:"
                + " raise its limit (ulimit -n) to at least %d%s", servers, eventLoops, need, openFilesLimit, need * 2,
                eventLoops > 1 ? ", or run fewer event loops (weldr.proxy.event-loops)" : "");
    }

    static long openFilesLimit() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return -1;
    }

    @Override
    public InetSocketAddress address(String pool, ServerKey key) {
        Backend b = get(pool, key);
        return b == null ? null : b.socketAddress();
    }

    @Override
    public boolean setUp(String pool, ServerKey key, boolean up) {
        synchronized (lock) {
            Backend b = backends.getOrDefault(pool, Map.of()).get(key);
            if (b == null || b.up() == up) {
                return false;
            }
            b.up(up);
            rebuild();
            return true;
        }
    }

    /**
     * Passive health checking: a failure seen on real traffic. Enough of them in a row eject the
     * server for a cool-down, unless the pool already has its share of ejected servers.
     */
    void failed(Backend b, OutlierSpec spec) {
        if (!spec.enabled() || b.consecutiveFailures.incrementAndGet() < spec.consecutiveFailures() || b.ejected()) {
            return;
        }
        synchronized (lock) {
            Map<ServerKey, Backend> pool = backends.get(b.pool());
            if (b.ejected() || pool == null || pool.get(b.server().key()) != b) {
                return;
            }
            int ejected = (int) pool.values().stream().filter(Backend::ejected).count();
            if (!mayEject(ejected, pool.size(), spec.maxEjectionPercent())) {
                return;
            }
            long now = System.nanoTime();
            // A server that stayed in for a whole maximum cool-down starts again from the base one.
            if (now - b.readmittedAtNanos > spec.maxEjection().toNanos()) {
                b.ejections = 0;
            }
            b.ejections++;
            long ms = coolDownMs(spec, b.ejections);
            long until = System.currentTimeMillis() + ms;
            b.ejectedUntil(now + ms * 1_000_000, until);
            b.consecutiveFailures.set(0);
            rebuild();
            LOG.warnf("server %s of pool %s ejected for %d ms: %d consecutive failures on traffic",
                    b.id(), b.pool(), ms, spec.consecutiveFailures());
            events.server(EventLog.Kind.EJECTED, b.pool(), b.id(),
                    "ejected for " + ms + " ms: " + spec.consecutiveFailures() + " consecutive failures on traffic", until);
            vertx.setTimer(Math.max(1, ms), id -> readmit(b));
        }
    }

    /** Envoy's rule: never more than max-ejection-percent of a pool at once, but always at least one server. */
    static boolean mayEject(int alreadyEjected, int poolSize, int maxEjectionPercent) {
        return alreadyEjected == 0 || (alreadyEjected + 1) * 100L <= (long) maxEjectionPercent * poolSize;
    }

    /** The n-th ejection in a row lasts n base cool-downs, at most the maximum. */
    static long coolDownMs(OutlierSpec spec, int ejectionsInARow) {
        return Math.min(spec.baseEjection().toMillis() * ejectionsInARow, spec.maxEjection().toMillis());
    }

    /** A success on real traffic ends a run of failures. */
    void succeeded(Backend b) {
        if (b.consecutiveFailures.get() != 0) {
            b.consecutiveFailures.set(0);
        }
    }

    private void readmit(Backend b) {
        synchronized (lock) {
            if (!b.ejected()) {
                return;
            }
            b.ejectedUntil(0, 0);
            b.readmittedAtNanos = System.nanoTime();
            rebuild();
            LOG.infof("server %s of pool %s readmitted after its cool-down", b.id(), b.pool());
            events.server(EventLog.Kind.READMITTED, b.pool(), b.id(), "readmitted after its cool-down", 0);
        }
    }

    private void rebuild() {
        RoutingTable old = table;
        Map<String, PoolTable> tables = new LinkedHashMap<>();
        for (Pool pool : topology.pools()) {
            Collection<Backend> all = backends.getOrDefault(pool.name(), Map.of()).values();
            List<Backend> routable = new ArrayList<>(all.size());
            for (Backend b : all) {
                if (b.routable()) {
                    routable.add(b);
                }
            }
            PoolTable previous = old.pool(pool.name());
            SslContext tls = clientContexts.get(new ContextKey(pool.settings().tls(), pool.settings().protocol() == BackendProtocol.H2));
            tables.put(pool.name(), previous != null && previous.sameAs(pool.settings(), routable, all.size(), tls)
                    ? previous : new PoolTable(pool.name(), pool.settings(), routable, all.size(), tls));
        }
        table = new RoutingTable(topology, tables, old);
    }

    RoutingTable table() {
        return table;
    }

    /** The topology the routing table was last built from. */
    Topology topology() {
        synchronized (lock) {
            return topology;
        }
    }

    /** Every backend of a pool, in pool order (empty for an unknown pool). */
    public Map<ServerKey, Backend> pool(String name) {
        return backends.getOrDefault(name, Map.of());
    }

    /** Changes (by identity) whenever the set of backends changes; for callers that cache per set. */
    public Object generation() {
        return backends;
    }

    /** Every backend of every pool. */
    public List<Backend> all() {
        List<Backend> list = new ArrayList<>();
        backends.values().forEach(m -> list.addAll(m.values()));
        return list;
    }

    public Backend get(String pool, ServerKey key) {
        return pool(pool).get(key);
    }
}
