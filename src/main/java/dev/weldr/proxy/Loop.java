package dev.weldr.proxy;

import dev.weldr.acme.AcmeChallenges;
import dev.weldr.proxy.lb.LoadBalancer;
import dev.weldr.tls.BackendTrust;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import org.jboss.logging.Logger;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SNIServerName;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What one event loop of the data plane owns, touched by that loop's thread only: its balancers,
 * its cache of idle backend connections, and the exchanges whose timeouts it watches. Nothing
 * here locks; a request never leaves the loop its client connection belongs to.
 *
 * <p>The idle cache is nginx's {@code keepalive N}: connections a backend left open after an
 * answer wait here to be reused, most recently used first per backend, at most {@code maxIdle}
 * per loop (the oldest goes when one more arrives) and at most {@code idleTimeout} each.
 */
final class Loop {

    private static final Logger LOG = Logger.getLogger(Loop.class);

    static final int MAX_INITIAL_LINE = 8192;
    static final int MAX_HEADER_SIZE = 16384;


    final int index;
    final EventLoop eventLoop;
    final BackendRegistry registry;
    /** {@link BackendRegistry#retirements()} when this loop last closed the idle connections of removed servers. */
    private long seenRetirements;
    final ProxyStats stats;
    final HttpDate date = new HttpDate();
    private final Class<? extends Channel> channelType;
    private final int connectTimeoutMs;
    private final long readTimeoutNanos;
    private final long writeTimeoutNanos;
    final long readTimeoutMs;
    final long writeTimeoutMs;
    private final long idleTimeoutNanos;
    private final int maxIdle;

    /** This loop's balancers, one per pool table; a table is replaced whenever its pool changes. */
    private final Map<PoolTable, LoadBalancer<Backend>> balancers = new IdentityHashMap<>();
    /** Exchanges with a backend request under way, newest first (an intrusive list: no allocation). */
    private Exchange watching;
    /** Idle connections of every backend, oldest first (intrusive). */
    private BackendConnection oldestIdle;
    private BackendConnection newestIdle;
    private int idleCount;

    /** Every open HTTP/2 client connection of every loop, to be told to go away (see {@link ProxyServer}). Set before the loop serves. */
    java.util.Set<Http2Front> http2Connections = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** This loop's HTTP/2 connections to the servers of h2 and h2c pools. */
    final Http2Pool h2;

    /** Where each request is logged; null when the access log is off (the default). Set before the loop serves. */
    AccessLog accessLog;
    /**
     * The port an HTTPS redirect names: the one clients reach the HTTPS listener on. Known once
     * that listener is bound (with {@code tls-port} 0), after the plain one already serves.
     */
    volatile int httpsPort;
    /** The challenges of the cluster's ACME orders, answered on the plain listener. */
    AcmeChallenges acme;

    Loop(int index, EventLoop eventLoop, Class<? extends Channel> channelType, BackendRegistry registry, ProxyStats stats,
         long connectTimeoutMs, long readTimeoutMs, long writeTimeoutMs, long idleTimeoutMs, int maxIdle) {
        this.index = index;
        this.eventLoop = eventLoop;
        this.channelType = channelType;
        this.registry = registry;
        this.stats = stats;
        this.connectTimeoutMs = (int) Math.min(Integer.MAX_VALUE, connectTimeoutMs);
        this.readTimeoutMs = readTimeoutMs;
        this.writeTimeoutMs = writeTimeoutMs;
        this.readTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(readTimeoutMs);
        this.writeTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(writeTimeoutMs);
        this.idleTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMs);
        this.maxIdle = maxIdle;
        this.h2 = new Http2Pool(this, idleTimeoutNanos, TimeUnit.MILLISECONDS.toNanos(connectTimeoutMs));
    }

    // ---- balancers --------------------------------------------------------------------------

    /** The balancer of this loop for the pool's current table (built when the table changes). */
    Backend pick(PoolTable pool, Exchange key, Backend exclude) {
        if (pool.routable.isEmpty()) {
            return null;
        }
        if (pool.shared != null) {
            return pool.shared.pick(key, exclude);
        }
        LoadBalancer<Backend> lb = balancers.get(pool);
        if (lb == null) {
            if (balancers.size() > 64) {
                balancers.clear();
            }
            lb = pool.balancers.create(pool.routable);
            balancers.put(pool, lb);
        }
        return lb.pick(key, exclude);
    }

    // ---- backend connections ----------------------------------------------------------------

    /**
     * An open idle connection to this backend, most recently used first, made with the pool's
     * current TLS context (one made under a setting since changed is closed); null when none is cached.
     */
    BackendConnection takeIdle(Backend backend, PoolTable pool) {
        SslContext tls = backend.https() ? pool.tls : null;
        ArrayDeque<BackendConnection> idle = backend.idle(index);
        if (idle == null) {
            return null;
        }
        BackendConnection c;
        while ((c = idle.pollFirst()) != null) {
            unlinkIdle(c);
            if (c.channel.isActive() && c.address == backend.socketAddress() && c.tls == tls) {
                return c;
            }
            c.channel.close();
        }
        return null;
    }

    /** A connection whose answer is complete and which the backend keeps open: cached for the next request. */
    void offerIdle(BackendConnection c) {
        if (!c.channel.isActive() || !c.backend.current() || c.address != c.backend.socketAddress()) {
            c.channel.close();
            return;
        }
        c.backend.idleOrCreate(index).addFirst(c);
        c.idle = true;
        c.idleSinceNanos = System.nanoTime();
        c.newerIdle = null;
        c.olderIdle = newestIdle;
        if (newestIdle != null) {
            newestIdle.newerIdle = c;
        } else {
            oldestIdle = c;
        }
        newestIdle = c;
        if (++idleCount > maxIdle) {
            closeIdle(oldestIdle);
        }
    }

    /** An idle connection closed by its backend, or by this cache. */
    void idleClosed(BackendConnection c) {
        if (c.idle) {
            ArrayDeque<BackendConnection> idle = c.backend.idle(index);
            if (idle != null) {
                idle.remove(c);
            }
            unlinkIdle(c);
        }
    }

    private void closeIdle(BackendConnection c) {
        // The oldest connection of the loop is the oldest of its backend too: the last of its deque.
        ArrayDeque<BackendConnection> idle = c.backend.idle(index);
        if (idle != null) {
            idle.removeLastOccurrence(c);
        }
        unlinkIdle(c);
        c.channel.close();
    }

    private void unlinkIdle(BackendConnection c) {
        if (!c.idle) {
            return;
        }
        c.idle = false;
        idleCount--;
        if (c.olderIdle != null) {
            c.olderIdle.newerIdle = c.newerIdle;
        } else {
            oldestIdle = c.newerIdle;
        }
        if (c.newerIdle != null) {
            c.newerIdle.olderIdle = c.olderIdle;
        } else {
            newestIdle = c.olderIdle;
        }
        c.olderIdle = null;
        c.newerIdle = null;
    }

    /**
     * Opens a connection to the backend for this exchange: TLS when the server's scheme is https,
     * with the pool's client context, SNI and the name checked (see {@link BackendTrust}). The
     * TCP connect and the TLS handshake share one deadline, the connect timeout (nginx restarts
     * {@code proxy_connect_timeout} for the handshake; one bound is what a client waits at most).
     */
    void open(Backend backend, Exchange ex) {
        if (backend.socketAddress().isUnresolved()) {
            resolveThen(backend, ex, () -> open(backend, ex));
            return;
        }
        PoolTable pool = ex.pool;
        SslContext tls = backend.https() ? pool.tls : null;
        if (backend.https() && tls == null) {
            ex.connectFailed(new SSLException("pool " + pool.name + " has no TLS client context (see the log)"));
            return;
        }
        BackendConnection c = new BackendConnection(this, backend, backend.socketAddress(), tls);
        dial(backend, pool, tls, new ChannelHandler[]{c}, new Dialed() {
            @Override
            public void dialed(Channel ch) {
                ex.opened(c);
            }

            @Override
            public void failed(Throwable cause) {
                ex.connectFailed(cause);
            }
        });
    }

    /**
     * Netty would look a name up as it connects, blocking the loop: the registry's resolver thread
     * does it, and {@code then} runs on this loop once it is done (the exchange fails when the name
     * does not resolve).
     */
    void resolveThen(Backend backend, Exchange ex, Runnable then) {
        registry.lookUp(backend).whenComplete((done, failure) -> eventLoop.execute(() -> {
            if (backend.socketAddress().isUnresolved()) {
                ex.connectFailed(new UnknownHostException(backend.server().host() + " does not resolve"));
            } else {
                then.run();
            }
        }));
    }

    /** How a connection being made ends: made (TLS done) or not. */
    interface Dialed {
        void dialed(Channel ch);

        void failed(Throwable cause);
    }

    /**
     * Connects to the backend's resolved address with {@code handlers} on the pipeline, behind TLS
     * with {@code tls} when it is not null.
     */
    void dial(Backend backend, PoolTable pool, SslContext tls, ChannelHandler[] handlers, Dialed done) {
        InetSocketAddress to = backend.socketAddress();
        String peer = BackendTrust.peerName(pool.settings.tls(), backend.server().host());
        ChannelFuture connecting = new Bootstrap()
                .group(eventLoop)
                .channel(channelType)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ChannelPipeline p = ch.pipeline();
                        if (tls != null) {
                            p.addLast(handler(tls, ch, peer, backend.server().port()));
                        }
                        p.addLast(handlers);
                    }
                })
                .connect(to);
        if (tls == null) {
            connecting.addListener((ChannelFuture f) -> {
                if (f.isSuccess()) {
                    done.dialed(f.channel());
                } else {
                    done.failed(f.cause());
                }
            });
            return;
        }
        Handshake h = new Handshake(backend, pool, done, connecting);
        h.deadline = eventLoop.schedule(h::expire, connectTimeoutMs, TimeUnit.MILLISECONDS);
        connecting.addListener(h);
    }

    private static SslHandler handler(SslContext tls, Channel ch, String peer, int port) {
        // The engine checks the certificate against the name it is opened for (the context sets
        // HTTPS endpoint identification); SNI is set here, as the JDK sends it only for names with a dot.
        SslHandler ssl = tls.newHandler(ch.alloc(), peer, port);
        SSLEngine engine = ssl.engine();
        SSLParameters params = engine.getSSLParameters();
        params.setServerNames(sni(peer));
        engine.setSSLParameters(params);
        // The connect timeout bounds the handshake (Handshake#expire), not Netty's own 10 s.
        ssl.setHandshakeTimeoutMillis(0);
        return ssl;
    }

    /** The SNI of a name: none for an address literal (RFC 6066 §3), nor for a name SNI cannot carry ({@code a_b}). */
    private static List<SNIServerName> sni(String peer) {
        if (!BackendTrust.sendsSni(peer)) {
            return List.of();
        }
        try {
            return List.of(new SNIHostName(peer));
        } catch (IllegalArgumentException e) {
            return List.of();
        }
    }

    /** One TLS connection being made: its outcome is told to the exchange once, whichever comes first. */
    private final class Handshake implements ChannelFutureListener {
        final Backend backend;
        final PoolTable pool;
        final Dialed done;
        final ChannelFuture connecting;
        ScheduledFuture<?> deadline;
        private boolean settled;

        Handshake(Backend backend, PoolTable pool, Dialed done, ChannelFuture connecting) {
            this.backend = backend;
            this.pool = pool;
            this.done = done;
            this.connecting = connecting;
        }

        @Override
        public void operationComplete(ChannelFuture f) {
            if (!f.isSuccess()) {
                settle(null, f.cause());
                return;
            }
            f.channel().pipeline().get(SslHandler.class).handshakeFuture().addListener(handshake -> {
                if (settled) {
                    // Timed out: the close that ended the handshake was ours.
                    return;
                }
                if (handshake.isSuccess()) {
                    settle(f.channel(), null);
                } else {
                    tlsFailed(backend, pool, handshake.cause());
                    settle(null, handshake.cause());
                }
            });
        }

        void expire() {
            if (settled) {
                return;
            }
            boolean connected = connecting.isSuccess();
            if (connected) {
                stats.backendTlsFailed(backend, ProxyStats.TLS_TIMEOUT);
            }
            settle(null, new ConnectTimeoutException((connected ? "TLS handshake with " : "connect to ") + backend.id()
                    + " not done within the connect timeout (" + connectTimeoutMs + " ms)"));
        }

        private void settle(Channel ch, Throwable failure) {
            if (settled) {
                return;
            }
            settled = true;
            deadline.cancel(false);
            if (ch != null) {
                done.dialed(ch);
                return;
            }
            connecting.channel().close();
            done.failed(failure);
        }
    }

    /** How long a server whose certificate fails is quiet in the log after one line about it. */
    private static final long TLS_WARN_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** A handshake that failed: counted by reason, and logged at most once a minute per server. */
    private void tlsFailed(Backend backend, PoolTable pool, Throwable cause) {
        boolean certificate = BackendTrust.isVerificationFailure(cause);
        stats.backendTlsFailed(backend, certificate ? ProxyStats.TLS_CERTIFICATE : ProxyStats.TLS_HANDSHAKE);
        if (!backend.mayWarnTls(System.nanoTime(), TLS_WARN_EVERY_NANOS)) {
            return;
        }
        String reason = BackendTrust.reason(cause);
        if (reason == null) {
            reason = "TLS handshake failed: " + cause;
        }
        LOG.warnf("server %s of pool %s: %s (as %s)%s; at most one such line a minute per server", backend.id(), pool.name, reason,
                BackendTrust.peerName(pool.settings.tls(), backend.server().host()),
                certificate ? "; give the pool the CA that issued it (tls.ca), the name it holds (tls.serverName), or tls.verify false" : "");
    }

    // ---- what the loop writes ---------------------------------------------------------------

    /**
     * Heads and chunk lines are written into one big buffer per loop and go out as slices of it,
     * instead of one pooled buffer each: a pooled allocation costs far more than the bytes.
     * The buffer is freed once every slice of it was written.
     */
    private static final int SLAB = 64 * 1024;
    private ByteBuf slab;
    private int slabMark;

    /** A buffer with room for {@code max} bytes: write them, then take them with {@link #written()}. */
    ByteBuf writing(int max) {
        if (slab == null || slab.writableBytes() < max) {
            if (slab != null) {
                slab.release();
            }
            slab = Unpooled.directBuffer(Math.max(SLAB, max));
        }
        slabMark = slab.writerIndex();
        return slab;
    }

    /** What was written since {@link #writing}, as a buffer of its own to send. */
    ByteBuf written() {
        return slab.retainedSlice(slabMark, slab.writerIndex() - slabMark);
    }

    /** The line that opens a chunk of {@code size} bytes. */
    ByteBuf chunkStart(int size) {
        Heads.chunkStart(writing(10), size);
        return written();
    }

    /** The last chunk, with the trailers (lines ending CR LF) when there are any. */
    ByteBuf lastChunk(ByteBuf trailers) {
        if (trailers == null) {
            return Heads.lastChunk();
        }
        Heads.lastChunk(writing(5 + trailers.readableBytes()), trailers);
        return written();
    }

    // ---- timeouts: one sweep per loop instead of a timer per request ---------------------------

    /** The exchange has a backend request under way: its timeouts are checked from now on. */
    void watch(Exchange ex) {
        if (ex.watched) {
            return;
        }
        ex.watched = true;
        ex.prevWatched = null;
        ex.nextWatched = watching;
        if (watching != null) {
            watching.prevWatched = ex;
        }
        watching = ex;
    }

    void unwatch(Exchange ex) {
        if (!ex.watched) {
            return;
        }
        ex.watched = false;
        if (ex.prevWatched != null) {
            ex.prevWatched.nextWatched = ex.nextWatched;
        } else {
            watching = ex.nextWatched;
        }
        if (ex.nextWatched != null) {
            ex.nextWatched.prevWatched = ex.prevWatched;
        }
        ex.prevWatched = null;
        ex.nextWatched = null;
    }

    /**
     * Times out the backend requests that sent nothing for longer than the read timeout once the
     * request was sent whole (a 504 when no response head came yet, a cut connection in the middle
     * of a body), or that did not take the request body for longer than the write timeout; closes
     * idle connections past their idle timeout. Runs every twentieth of the read timeout (10 to
     * 100 ms), so a timeout fires at most that late.
     */
    void sweep() {
        long now = System.nanoTime();
        Exchange ex = watching;
        while (ex != null) {
            Exchange next = ex.nextWatched;
            // A gRPC call's deadline stands in for the read timeout (see Exchange#deadlineNanos).
            boolean readLate = ex.deadlineNanos != 0 ? now - ex.deadlineNanos > 0
                    : ex.requestSent && !ex.clientPaused && now - ex.lastReadNanos > readTimeoutNanos;
            boolean writeLate = ex.stalledSinceNanos != 0 && now - ex.stalledSinceNanos > writeTimeoutNanos;
            if (readLate || writeLate) {
                unwatch(ex);
                ex.timeOut();
            }
            ex = next;
        }
        while (oldestIdle != null && now - oldestIdle.idleSinceNanos > idleTimeoutNanos) {
            closeIdle(oldestIdle);
        }
        h2.sweep(now);
        long retirements = registry.retirements();
        if (retirements != seenRetirements) {
            seenRetirements = retirements;
            closeIdleOfRemovedServers();
        }
    }

    /**
     * Closes the cached connections of servers no longer in their pool, once after each change
     * that removed some: they would otherwise hold a descriptor on both ends until the idle timeout.
     */
    private void closeIdleOfRemovedServers() {
        BackendConnection c = oldestIdle;
        while (c != null) {
            BackendConnection next = c.newerIdle;
            if (!c.backend.current()) {
                closeIdle(c);
            }
            c = next;
        }
    }

    /**
     * The loop is done with (a warm-up run that ended): frees its write buffer and closes its
     * cached backend connections, which would otherwise outlive it. On the loop's thread, once
     * none of its channels is left.
     */
    void close() {
        while (oldestIdle != null) {
            closeIdle(oldestIdle);
        }
        if (slab != null) {
            slab.release();
            slab = null;
        }
    }

    int connectTimeoutMs() {
        return connectTimeoutMs;
    }

    /** How often {@link #sweep()} runs. */
    long sweepPeriodMs() {
        return Math.max(10, Math.min(100, readTimeoutMs / 20));
    }

    int idleCount() {
        return idleCount;
    }
}
