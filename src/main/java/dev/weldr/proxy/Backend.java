package dev.weldr.proxy;

import dev.weldr.pool.Server;
import dev.weldr.proxy.lb.Endpoint;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A server of one pool as the data plane sees it: the desired server, this node's view of its
 * health (active checks, and ejection by passive checks), its load and what the proxy counted for
 * it. One instance lives as long as the server is in the pool.
 */
public final class Backend implements Endpoint {

    private final String pool;
    private volatile Server server;
    private volatile boolean up = true;
    private volatile long ejectedUntilNanos;
    /** When the ejection ends on the wall clock, for people (the admin API); 0 while not ejected. */
    private volatile long ejectedUntilMillis;
    /** Where connections go: an address literal, or the name's address as last looked up (see {@link #resolved}). */
    private volatile InetSocketAddress address;
    /** The lookup of the name in flight, if any; guarded by this. */
    private CompletableFuture<Void> lookup;
    /** The host is a name, not an address literal: {@link BackendRegistry} looks it up again from time to time. */
    private final boolean named;
    private final String id;
    /** Still in its pool; a removed server's connections are not cached any more. */
    private volatile boolean current = true;
    /** Idle connections per event loop; each slot is touched by its loop's thread only. */
    private final ArrayDeque<BackendConnection>[] idle;
    final AtomicInteger inFlight = new AtomicInteger();
    /** Consecutive failures seen on real traffic, for passive health checking. */
    final AtomicInteger consecutiveFailures = new AtomicInteger();
    /** Ejections in a row: the n-th lasts n base ejection times. Guarded by the registry's lock. */
    int ejections;
    /** When the last ejection ended. Guarded by the registry's lock. */
    long readmittedAtNanos = System.nanoTime();
    final LoopCounter success = new LoopCounter();
    final LoopCounter failed = new LoopCounter();
    /** Time from this server being chosen for a request to the end of the answer, for the requests it answered. */
    final LatencyHistogram latency = new LatencyHistogram();
    /** When the last line about a TLS failure of this server was logged, if {@link #tlsWarned}. */
    private final AtomicLong tlsWarnedAtNanos = new AtomicLong();
    private volatile boolean tlsWarned;
    /** The {@code weldr_requests} counter this server used last. */
    ProxyStats.ByStatus lastCounter;

    Backend(String pool, Server server) {
        this.pool = pool;
        this.server = server;
        this.id = server.id();
        // Never looked up here: this runs where Raft applies the pool, and a name that does not
        // resolve can take the resolver's whole timeout. A literal is parsed; a name waits for the
        // registry's resolver thread (see BackendRegistry#lookUp).
        this.named = !isAddressLiteral(server.host());
        this.address = named ? InetSocketAddress.createUnresolved(server.host(), server.port())
                : new InetSocketAddress(server.host(), server.port());
        @SuppressWarnings("unchecked")
        ArrayDeque<BackendConnection>[] perLoop = new ArrayDeque[ProxyServer.eventLoops()];
        this.idle = perLoop;
    }

    public String pool() {
        return pool;
    }

    public Server server() {
        return server;
    }

    void server(Server updated) {
        this.server = updated;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int weight() {
        return server.weight();
    }

    @Override
    public int inFlight() {
        return inFlight.get();
    }

    /** Up as far as this node's active health checks know; a new server starts up. */
    public boolean up() {
        return up;
    }

    void up(boolean value) {
        this.up = value;
    }

    /** Ejected by passive health checking, until its cool-down ends. */
    public boolean ejected() {
        return ejectedUntilNanos != 0;
    }

    /** When the ejection ends (epoch ms), or 0 while the server is not ejected. */
    public long ejectedUntilMillis() {
        return ejectedUntilMillis;
    }

    void ejectedUntil(long nanos, long epochMillis) {
        this.ejectedUntilMillis = epochMillis;
        this.ejectedUntilNanos = nanos;
    }

    public boolean routable() {
        return up && !ejected() && !server.draining();
    }

    /** {@code active}, {@code down} or {@code draining}, as this node sees it. */
    public String state() {
        if (server.draining()) {
            return "draining";
        }
        return up && !ejected() ? "active" : "down";
    }

    public long successCount() {
        return success.sum();
    }

    public LatencyHistogram latency() {
        return latency;
    }

    public long failedCount() {
        return failed.sum();
    }

    /** Where new connections go; a cached connection to another address is not reused. */
    InetSocketAddress socketAddress() {
        return address;
    }

    boolean named() {
        return named;
    }

    /** An IPv4 or IPv6 literal (as {@link dev.weldr.pool.ServerUrl} leaves them): nothing to look up. */
    static boolean isAddressLiteral(String host) {
        return host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9');
    }

    /**
     * Takes the addresses a new lookup of the host name gave. The current address stays while it
     * is among them (a name with several addresses, served in rotating order, does not make weldr
     * drop its connections every time); otherwise the first one is taken. Returns the new address,
     * or null when nothing changed.
     */
    InetSocketAddress resolved(InetAddress[] found) {
        InetSocketAddress was = address;
        if (found.length == 0) {
            return null;
        }
        if (!was.isUnresolved()) {
            for (InetAddress a : found) {
                if (a.equals(was.getAddress())) {
                    return null;
                }
            }
        }
        InetSocketAddress next = new InetSocketAddress(found[0], was.getPort());
        address = next;
        return next;
    }

    /** The lookup in flight, or a new one that {@code start} runs (one at a time per server). */
    synchronized CompletableFuture<Void> lookup(Supplier<CompletableFuture<Void>> start) {
        if (lookup == null || lookup.isDone()) {
            lookup = start.get();
        }
        return lookup;
    }

    /** This event loop's idle connections to the server, or null when it never had one. */
    ArrayDeque<BackendConnection> idle(int loop) {
        return idle[loop];
    }

    ArrayDeque<BackendConnection> idleOrCreate(int loop) {
        ArrayDeque<BackendConnection> d = idle[loop];
        if (d == null) {
            d = new ArrayDeque<>(8);
            idle[loop] = d;
        }
        return d;
    }

    boolean current() {
        return current;
    }

    void retire() {
        current = false;
    }

    /** True for the one caller that may log a TLS failure of this server now: the first, then one per period. */
    boolean mayWarnTls(long nowNanos, long periodNanos) {
        long last = tlsWarnedAtNanos.get();
        if (tlsWarned && nowNanos - last < periodNanos) {
            return false;
        }
        if (!tlsWarnedAtNanos.compareAndSet(last, nowNanos)) {
            return false;
        }
        tlsWarned = true;
        return true;
    }

    boolean https() {
        return "https".equals(server.scheme());
    }
}
