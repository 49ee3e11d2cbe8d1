package dev.weldr.proxy;

import dev.weldr.proxy.lb.LoadBalancer;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import javax.net.ssl.SSLException;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
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
    private SslContext tls;

    /** This loop's balancers, one per pool table; a table is replaced whenever its pool changes. */
    private final Map<PoolTable, LoadBalancer<Backend>> balancers = new IdentityHashMap<>();
    /** Exchanges with a backend request under way, newest first (an intrusive list: no allocation). */
    private Exchange watching;
    /** Idle connections of every backend, oldest first (intrusive). */
    private BackendConnection oldestIdle;
    private BackendConnection newestIdle;
    private int idleCount;

    /** Where each request is logged; null when the access log is off (the default). Set before the loop serves. */
    AccessLog accessLog;
    /**
     * The port an HTTPS redirect names: the one clients reach the HTTPS listener on. Known once
     * that listener is bound (with {@code tls-port} 0), after the plain one already serves.
     */
    volatile int httpsPort;

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

    /** An open idle connection to this backend, most recently used first; null when none is cached. */
    BackendConnection takeIdle(Backend backend) {
        ArrayDeque<BackendConnection> idle = backend.idle(index);
        if (idle == null) {
            return null;
        }
        BackendConnection c;
        while ((c = idle.pollFirst()) != null) {
            unlinkIdle(c);
            if (c.channel.isActive() && c.address == backend.socketAddress()) {
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

    /** Opens a connection to the backend for this exchange (TLS when the server's scheme is https). */
    void open(Backend backend, Exchange ex) {
        InetSocketAddress to = backend.socketAddress();
        if (to.isUnresolved()) {
            // Netty would look the name up here, blocking the loop: the registry's resolver thread
            // does it, and the connection is tried again on this loop once it is done.
            registry.lookUp(backend).whenComplete((done, failure) -> eventLoop.execute(() -> {
                if (backend.socketAddress().isUnresolved()) {
                    ex.connectFailed(new UnknownHostException(backend.server().host() + " does not resolve"));
                } else {
                    open(backend, ex);
                }
            }));
            return;
        }
        ChannelFuture connecting = new Bootstrap()
                .group(eventLoop)
                .channel(channelType)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) throws SSLException {
                        ChannelPipeline p = ch.pipeline();
                        if (backend.https()) {
                            SslHandler ssl = tls().newHandler(ch.alloc(), backend.server().host(), backend.server().port());
                            p.addLast(ssl);
                        }
                        p.addLast(new BackendConnection(Loop.this, backend, to));
                    }
                })
                .connect(to);
        connecting.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                ex.connectFailed(f.cause());
                return;
            }
            BackendConnection c = f.channel().pipeline().get(BackendConnection.class);
            SslHandler ssl = f.channel().pipeline().get(SslHandler.class);
            if (ssl == null) {
                ex.opened(c);
                return;
            }
            ssl.handshakeFuture().addListener(h -> {
                if (h.isSuccess()) {
                    ex.opened(c);
                } else {
                    f.channel().close();
                    ex.connectFailed(h.cause());
                }
            });
        });
    }

    /** Like nginx's proxy_ssl_verify off: backends are usually internal and self-signed. */
    private SslContext tls() throws SSLException {
        if (tls == null) {
            tls = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        }
        return tls;
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
            boolean readLate = ex.requestSent && !ex.clientPaused && now - ex.lastReadNanos > readTimeoutNanos;
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

    /** How often {@link #sweep()} runs. */
    long sweepPeriodMs() {
        return Math.max(10, Math.min(100, readTimeoutMs / 20));
    }

    int idleCount() {
        return idleCount;
    }
}
