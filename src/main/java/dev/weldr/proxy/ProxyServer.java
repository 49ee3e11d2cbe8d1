package dev.weldr.proxy;

import dev.weldr.acme.AcmeChallenges;
import dev.weldr.cluster.Leadership;
import dev.weldr.config.HaMode;
import dev.weldr.config.ListenFailure;
import dev.weldr.config.WeldrConfig;
import dev.weldr.tls.CertificateStore;
import dev.weldr.tls.ChallengeSniHandler;
import dev.weldr.tls.HandshakeWatch;
import dev.weldr.tls.TlsAlpnChallenges;
import dev.weldr.tls.TlsMetrics;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.arc.ClientProxy;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import java.net.InetSocketAddress;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The data plane: one event loop per core, each with its clients, its backend connections and
 * its timeouts (see {@link Loop}). It is built on Netty directly, on its own loops beside
 * Vert.x's (which serve the admin API): the proxy is the hot path, and Vert.x's general HTTP
 * server and client cost about twice what the proxying itself needs; see README "Performance".
 */
@ApplicationScoped
public class ProxyServer {

    private static final Logger LOG = Logger.getLogger(ProxyServer.class);
    /** How long a backend connection waits in the idle cache. */
    static final long BACKEND_IDLE_MS = 30_000;
    /** Observers of an event run lowest priority first: this is before GracefulStop's 1. */
    static final int STOPPING_PRIORITY = 0;
    /** A ClientHello larger than this is refused before it is buffered whole (browsers send under 2 KiB). */
    static final int MAX_CLIENT_HELLO = 16 * 1024;

    @Inject
    WeldrConfig config;
    @Inject
    BackendRegistry registry;
    @Inject
    ProxyStats stats;
    @Inject
    CertificateStore certificates;
    @Inject
    AcmeChallenges acme;
    @Inject
    TlsAlpnChallenges tlsAlpnChallenges;
    @Inject
    MeterRegistry meters;
    @Inject
    TlsMetrics tlsMetrics;
    @Inject
    Leadership leadership;
    private boolean wasLeader;

    private EventLoopGroup group;
    /** The open HTTP/2 client connections, told to go away when this node stops or stops being leader. */
    private final java.util.Set<Http2Front> http2Connections = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private Channel listener;
    /** Keeps this node's engine warm while it follows; null when off. */
    private WarmUp warmUp;
    private Channel tlsListener;
    private volatile int tlsPort = -1;
    private AccessLog accessLog;
    private volatile int port = -1;
    /** Client connections open now, of at most {@link #maxConnections}. */
    private final AtomicInteger clients = new AtomicInteger();
    private final AtomicLong refused = new AtomicLong();
    private int maxConnections;

    void start(@Observes @Priority(20) StartupEvent event) throws Exception {
        int instances = eventLoops();
        // epoll where Netty's native transport loads (Linux x86-64), NIO elsewhere: the same
        // behaviour, fewer system calls and no selector locks per read.
        boolean epoll = Epoll.isAvailable();
        DefaultThreadFactory threads = new DefaultThreadFactory("weldr-proxy", true);
        group = epoll ? new EpollEventLoopGroup(instances, threads) : new NioEventLoopGroup(instances, threads);
        Class<? extends ServerChannel> serverType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        Class<? extends Channel> socketType = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        // The loops call these on every request: the beans themselves, not their CDI client proxies.
        BackendRegistry registry = ClientProxy.unwrap(this.registry);
        ProxyStats stats = ClientProxy.unwrap(this.stats);
        WeldrConfig.Timeout timeout = config.timeout();
        long openFiles = BackendRegistry.openFilesLimit();
        int maxIdle = maxIdlePerLoop(openFiles, instances);
        maxConnections = maxConnections(config.proxy().maxConnections(), openFiles);
        ClientTimeouts clientTimeouts = ClientTimeouts.of(timeout);
        registerMeters();
        accessLog = AccessLog.open(config.proxy().accessLog());
        Map<EventExecutor, Loop> loops = new IdentityHashMap<>();
        int index = 0;
        for (EventExecutor executor : group) {
            Loop loop = new Loop(index++, (EventLoop) executor, socketType, registry, stats,
                    timeout.connect().toMillis(), timeout.read().toMillis(), timeout.write().toMillis(), BACKEND_IDLE_MS, maxIdle);
            loop.accessLog = accessLog;
            loop.acme = ClientProxy.unwrap(acme);
            loop.http2Connections = http2Connections;
            loops.put(executor, loop);
            executor.scheduleAtFixedRate(loop::sweep, loop.sweepPeriodMs(), loop.sweepPeriodMs(), TimeUnit.MILLISECONDS);
        }
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(serverType)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(new Gate())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new FrontConnection(loops.get(ch.eventLoop()), clientTimeouts, false));
                    }
                });
        try {
            // Redirects to HTTPS name the port from the first request on: the configured one now,
            // the one bound below when it is 0 (tests), so that no 308 (which clients cache) says port 0.
            int knownTlsPort = config.proxy().publicTlsPort().orElse(config.proxy().tlsPort());
            loops.values().forEach(loop -> loop.httpsPort = knownTlsPort);
            listener = bootstrap.bind(new InetSocketAddress(config.proxy().host(), config.proxy().port())).sync().channel();
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            // epoll's bind failure is an IOException without the address: one line an operator can act on.
            throw ListenFailure.of("proxy (weldr.proxy.port)", config.proxy().host(), config.proxy().port(), e);
        }
        port = ((InetSocketAddress) listener.localAddress()).getPort();
        // The HTTPS listener: the same loops and exchanges behind Netty's SNI handler, which picks
        // the certificate's context from the ClientHello and puts that context's SslHandler in its place
        // (or a TLS-ALPN-01 challenge's, for a CA that validates: ChallengeSniHandler).
        // Its own gate (a handler of one listener), counting against the same cap. Around the SNI
        // handler, a watch that answers plain HTTP and counts how each handshake ends, then leaves.
        CertificateStore sni = ClientProxy.unwrap(certificates);
        TlsAlpnChallenges challenges = ClientProxy.unwrap(tlsAlpnChallenges);
        TlsMetrics handshakes = ClientProxy.unwrap(tlsMetrics);
        long handshakeMs = config.tls().handshakeTimeout().toMillis();
        ServerBootstrap tls = bootstrap.clone().handler(new Gate()).childHandler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                HandshakeWatch watch = new HandshakeWatch(handshakes, sni);
                ch.pipeline().addLast(
                        watch.plainHttpAnswer(),
                        new ChallengeSniHandler(sni, challenges, MAX_CLIENT_HELLO, handshakeMs),
                        watch,
                        new FrontConnection(loops.get(ch.eventLoop()), clientTimeouts, true));
            }
        });
        try {
            tlsListener = tls.bind(new InetSocketAddress(config.proxy().host(), config.proxy().tlsPort())).sync().channel();
        } catch (Exception e) {
            listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw ListenFailure.of("HTTPS (weldr.proxy.tls-port)", config.proxy().host(), config.proxy().tlsPort(), e);
        }
        tlsPort = ((InetSocketAddress) tlsListener.localAddress()).getPort();
        int redirectPort = config.proxy().publicTlsPort().orElse(tlsPort);
        loops.values().forEach(loop -> loop.httpsPort = redirectPort);
        LOG.infof("HTTPS listening on %s:%d", config.proxy().host(), tlsPort);
        leadership.subscribe(this::leadershipChanged);
        int warmUpRate = config.ha().warmUp();
        if (warmUpRate > 0 && config.ha().mode() == HaMode.ACTIVE_PASSIVE) {
            long connectMs = timeout.connect().toMillis(), readMs = timeout.read().toMillis(), writeMs = timeout.write().toMillis();
            warmUp = new WarmUp(group, serverType, socketType, clientTimeouts, registry, warmUpRate, leadership::state, (i, eventLoop, shadow, own) -> {
                Loop loop = new Loop(i, eventLoop, socketType, shadow, own, connectMs, readMs, writeMs, BACKEND_IDLE_MS, maxIdle);
                loop.acme = ClientProxy.unwrap(acme);
                loop.httpsPort = redirectPort;
                return loop;
            });
            leadership.subscribe(state -> warmUp.roleChanged());
            warmUp.roleChanged();
        }
        LOG.infof("proxy listening on %s:%d (%d event loops on %s, up to %d idle backend connections each,"
                        + " up to %d client connections)",
                config.proxy().host(), port, instances, epoll ? "epoll" : "NIO", maxIdle, maxConnections);
        if (accessLog != null) {
            LOG.infof("access log: %s", config.proxy().accessLog().trim());
        }
    }

    /**
     * A leader that stops being one (it handed leadership over, or lost it) tells its HTTP/2
     * clients to go away: their connections are long-lived, and without a GOAWAY they would stay
     * on this node after the VIP and the readiness moved to the new leader. Their streams in
     * flight finish within {@code weldr.ha.stop-drain}.
     */
    private synchronized void leadershipChanged(Leadership.State state) {
        boolean leader = state.role() == Leadership.Role.LEADER;
        if (wasLeader && !leader) {
            long drain = config.ha().stopDrain().toMillis();
            http2Connections.forEach(c -> c.goAway(drain));
        }
        wasLeader = leader;
    }

    /**
     * Stopping: every HTTP/2 client connection gets a GOAWAY, and their streams in flight get
     * {@code drainMillis} to finish before the event loops stop.
     */
    private void drainHttp2(long drainMillis) {
        if (http2Connections.isEmpty()) {
            return;
        }
        http2Connections.forEach(c -> c.goAway(drainMillis));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMillis);
        while (!http2Connections.isEmpty() && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Before anything else of the shutdown (GracefulStop, priority 1, hands a leader's leadership
     * over and drains): from here on no warm-up run starts, so a leader that becomes a follower by
     * handing over does not spend its draining seconds on one.
     */
    void stopping(@Observes @Priority(STOPPING_PRIORITY) ShutdownEvent event) {
        if (warmUp != null) {
            warmUp.stopping();
        }
    }

    void stop(@Observes ShutdownEvent event) {
        port = -1;
        tlsPort = -1;
        if (warmUp != null) {
            warmUp.close();
        }
        if (tlsListener != null) {
            tlsListener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        if (listener != null) {
            listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        drainHttp2(config.ha().stopDrain().toMillis());
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
        if (accessLog != null) {
            accessLog.close();
        }
    }

    /**
     * How many event loops (each with its own backend connections) run: {@code weldr.proxy.event-loops},
     * or one per core when it is 0 (the default). Read once: backends size their per-loop state by it.
     */
    public static int eventLoops() {
        return LoopCount.VALUE;
    }

    static int eventLoops(int configured, int cores) {
        return configured > 0 ? configured : Math.max(1, cores);
    }

    private static final class LoopCount {
        static final int VALUE = eventLoops(ConfigProvider.getConfig()
                .getOptionalValue("weldr.proxy.event-loops", Integer.class).orElse(0),
                Runtime.getRuntime().availableProcessors());
    }

    /**
     * How many idle backend connections each loop keeps (nginx's {@code keepalive N}): half the
     * descriptors this process may open, shared by the loops, within 64 and 16,384.
     */
    static int maxIdlePerLoop(long openFilesLimit, int loops) {
        long share = openFilesLimit <= 0 ? 1024 : openFilesLimit / 2 / loops;
        return (int) Math.max(64, Math.min(16_384, share));
    }

    /**
     * How many client connections are kept open at most (HAProxy's {@code maxconn}):
     * {@code weldr.proxy.max-connections}, or else half of the open-files limit once a quarter of
     * it (at most 1,024) is set aside for the admin listener, Raft, health checks and the JVM's
     * own files: the other half is for the backend connection each client may need.
     */
    static int maxConnections(int configured, long openFilesLimit) {
        if (configured > 0) {
            return configured;
        }
        long limit = openFilesLimit > 0 ? openFilesLimit : 4096;
        long reserve = Math.min(1024, limit / 4);
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (limit - reserve) / 2));
    }

    private void registerMeters() {
        Gauge.builder("weldr.client.connections", clients, AtomicInteger::get)
                .description("Client connections open on the proxy listener").register(meters);
        int max = maxConnections;
        Gauge.builder("weldr.client.connections.max", () -> max)
                .description("Client connections the proxy listener keeps open at most (weldr.proxy.max-connections)")
                .register(meters);
        FunctionCounter.builder("weldr.connections.refused", refused, AtomicLong::get)
                .description("Client connections closed at once because the proxy listener had its maximum open")
                .register(meters);
    }

    /**
     * Closes a connection past the cap as soon as it is accepted, before it is given to an event
     * loop; it runs on the listener's loop, the only one that counts a connection in.
     */
    private final class Gate extends ChannelInboundHandlerAdapter {

        private final ChannelFutureListener closed = f -> clients.decrementAndGet();
        private boolean warned;
        private long warnedNanos;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel child = (Channel) msg;
            if (clients.incrementAndGet() > maxConnections) {
                clients.decrementAndGet();
                long total = refused.incrementAndGet();
                child.unsafe().closeForcibly();
                warn(total);
                return;
            }
            child.closeFuture().addListener(closed);
            ctx.fireChannelRead(msg);
        }

        /** One line when refusing starts, then at most one a minute while it goes on. */
        private void warn(long total) {
            long now = System.nanoTime();
            if (!warned || now - warnedNanos > TimeUnit.MINUTES.toNanos(1)) {
                LOG.warnf("%d client connections are open (weldr.proxy.max-connections): new ones are closed at once,"
                        + " %d so far (weldr_connections_refused_total)", maxConnections, total);
                warned = true;
                warnedNanos = now;
            }
        }
    }

    /** The port the proxy listens on, or -1 while it does not listen. */
    public int port() {
        return port;
    }

    /** The port the HTTPS listener listens on, or -1 while it does not listen. */
    public int tlsPort() {
        return tlsPort;
    }

    public boolean listening() {
        return port > 0;
    }
}
