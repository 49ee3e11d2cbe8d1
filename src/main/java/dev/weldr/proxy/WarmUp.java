package dev.weldr.proxy;

import dev.weldr.cluster.Leadership;
import dev.weldr.pool.BackendProtocol;
import dev.weldr.pool.BackendTls;
import dev.weldr.pool.HealthCheckSpec;
import dev.weldr.pool.OutlierSpec;
import dev.weldr.pool.Pool;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Route;
import dev.weldr.pool.Server;
import dev.weldr.pool.Topology;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import org.jboss.logging.Logger;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Keeps a follower's data plane warm for the moment it takes over. In active/passive mode only
 * the leader carries traffic, so a follower's JIT has compiled none of the proxy: the node that
 * takes over would serve its first seconds from the interpreter and the first compilers (see
 * README, "warm standby"). While this node follows a leader, each event loop sends
 * {@code weldr.ha.warm-up} requests a second, shared by the loops, through the real engine —
 * {@link FrontConnection}, {@link Exchange}, the route index, the pool's balancer,
 * {@link BackendConnection} — over loopback TCP, on the same event loops and socket classes real
 * traffic uses, so the code compiled is the code that will run.
 *
 * <p>Nothing of it is real traffic. The exchanges run in loops of their own ({@link Loop}
 * instances beside the real ones, on the same threads) whose routing table has the cluster's
 * routes and pools with one server each: an internal sink that answers every request itself. So
 * no request reaches a backend, and the loops count into statistics of their own, in a meter
 * registry nobody reads: {@code /stats}, the Prometheus endpoint and the access log never see
 * them. The listener they arrive on is bound to loopback and closes every connection it did not
 * open itself; the sink, on loopback too, cannot tell the warm loops' connections from another
 * local process's, so it keeps at most {@link #SINK_CONNECTIONS_PER_LOOP} per loop and closes any
 * silent for {@link #SINK_IDLE_SECONDS}, and only answers a constant. All of it is opened when
 * this node starts following and closed when it becomes leader or starts to stop.
 */
final class WarmUp {

    private static final Logger LOG = Logger.getLogger(WarmUp.class);
    /** How often each client sends its share of the rate. */
    private static final long TICK_MS = 100;
    /** How often the sink's copy of the routes and pools is brought up to date with the cluster's. */
    private static final long REFRESH_MS = 5000;
    /** Routes past this many are not sent requests of their own: the route index code is the same. */
    private static final int MAX_ROUTES = 16;
    private static final byte[] SINK_BODY = "warm\n".getBytes(StandardCharsets.US_ASCII);
    /**
     * Requests after which the engine's hot path is compiled (C2 compiles a method after some
     * 10,000 calls, and each request calls the hot ones at least once): said once in the log.
     */
    static final long WARM_AFTER = 10_000;
    /** The body of the POSTs, so that request bodies are read and forwarded too. */
    private static final byte[] POST_BODY = new byte[1024];
    /**
     * The sink's connections a warm loop may hold: each client sends one request at a time, so a
     * loop needs one backend connection, two while a closed one is replaced.
     */
    static final int SINK_CONNECTIONS_PER_LOOP = 4;
    /** A sink connection silent this long is closed (the warm loops close theirs after the backend idle timeout). */
    static final int SINK_IDLE_SECONDS = 60;

    /** Makes the event loop's warm-up {@link Loop}: like its real one, with this registry and these statistics. */
    interface Loops {
        Loop create(int index, EventLoop eventLoop, BackendRegistry registry, ProxyStats stats);
    }

    private final EventLoopGroup group;
    private final Class<? extends ServerChannel> serverType;
    private final Class<? extends Channel> socketType;
    private final ClientTimeouts timeouts;
    private final BackendRegistry real;
    private final Loops loops;
    private final int rate;
    /** This node's leadership as it is now: what a run is started or stopped on, whatever call came first. */
    private final Supplier<Leadership.State> leadership;
    /** Starts and stops runs one after the other, off the Raft thread that tells of leadership. */
    private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "weldr-warm-up");
        t.setDaemon(true);
        return t;
    });
    /** The requests sent so far, over every run. */
    private final AtomicLong sent = new AtomicLong();
    /** The run under way, or null; written on the control thread only. */
    private volatile Run run;
    private volatile boolean closed;

    WarmUp(EventLoopGroup group, Class<? extends ServerChannel> serverType, Class<? extends Channel> socketType,
           ClientTimeouts timeouts, BackendRegistry real, int rate, Supplier<Leadership.State> leadership, Loops loops) {
        this.group = group;
        this.serverType = serverType;
        this.socketType = socketType;
        this.timeouts = timeouts;
        this.real = real;
        this.rate = rate;
        this.leadership = leadership;
        this.loops = loops;
    }

    /**
     * Runs while this node follows a known leader, and stops when it becomes leader. A node with
     * no leader yet (starting, or during an election) keeps what it was doing. The role is read
     * when the control thread gets to it, not when the change was told: calls from the Raft
     * thread and from start-up may reach the control thread in any order.
     */
    void roleChanged() {
        control.execute(() -> {
            Leadership.Role role = leadership.get().role();
            if (role == Leadership.Role.FOLLOWER && run == null && !closed) {
                start();
            } else if (role == Leadership.Role.LEADER && run != null) {
                stop("this node is leader");
            }
        });
    }

    /**
     * The node starts to stop: no run starts from now on. A leader stopped by SIGTERM hands
     * leadership over and becomes a follower while it still drains real requests; it must not
     * spend them a warm-up it will never use.
     */
    void stopping() {
        closed = true;
    }

    /** Whether a run is under way (for tests). */
    boolean running() {
        return run != null;
    }

    /** The port of the run's sink, or -1 (for tests). */
    int sinkPort() {
        Run r = run;
        return r == null ? -1 : r.sink.port();
    }

    /** Waits until what was handed to the control thread so far is done (for tests). */
    void settled() throws Exception {
        control.submit(() -> { }).get(30, TimeUnit.SECONDS);
    }

    /** The synthetic requests answered so far, over every run. */
    long sent() {
        return sent.get();
    }

    /** Stops for good (the node stops): waits until what was open is closed. */
    void close() {
        closed = true;
        try {
            control.submit(() -> {
                if (run != null) {
                    stop("weldr stops");
                }
            }).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the event loops are shut down next, closing whatever is left
        }
        control.shutdownNow();
    }

    private void start() {
        Run r = new Run();
        try {
            r.open();
            run = r;
            LOG.infof("warm standby: this node follows the leader, so it sends %d synthetic requests a second through"
                    + " its own proxy engine to an internal sink, never to a backend (weldr.ha.warm-up)", rate);
        } catch (Exception e) {
            r.close();
            LOG.warnf("warm standby: could not start, this node will take over with a cold JIT: %s", e.toString());
        }
    }

    private void stop(String why) {
        run.close();
        run = null;
        LOG.infof("warm standby: stopped, %s (%d synthetic requests sent)", why, sent.get());
    }

    /** One stretch of following: the sink, the listener, the clients and their loops. */
    private final class Run {
        private final InetAddress loopback = InetAddress.getLoopbackAddress();
        private final BackendRegistry shadow = new BackendRegistry();
        private final Map<EventExecutor, Loop> warmLoops = new IdentityHashMap<>();
        /** The local addresses of this run's clients: the only connections the listener keeps. */
        private final Set<InetSocketAddress> clients = ConcurrentHashMap.newKeySet();
        /** Every channel of the run: listeners, clients, and the connections both listeners accepted. */
        private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        private final List<java.util.concurrent.Future<?>> timers = new ArrayList<>();
        /** The sink's open connections: at most {@link #SINK_CONNECTIONS_PER_LOOP} per loop. */
        private final AtomicInteger sinkConnections = new AtomicInteger();
        /** Set before the channels are closed: a client connecting again closes what it opened after that. */
        private volatile boolean closing;
        private InetSocketAddress frontAddress;
        private Server sink;
        private RoutingTable seen;
        /**
         * What the clients send, in turn; replaced whole when the routes change. Heap buffers each
         * client sends duplicates of, never released: a client may be sending one as it is replaced.
         */
        private volatile List<FullHttpRequest> requests = List.of();

        void open() throws InterruptedException {
            int loopCount = 0;
            for (EventExecutor ignored : group) {
                loopCount++;
            }
            int maxSinkConnections = SINK_CONNECTIONS_PER_LOOP * loopCount;
            Channel sinkListener = new ServerBootstrap().group(group).channel(serverType)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            if (sinkConnections.incrementAndGet() > maxSinkConnections) {
                                sinkConnections.decrementAndGet();
                                ch.close();
                                return;
                            }
                            ch.closeFuture().addListener(f -> sinkConnections.decrementAndGet());
                            channels.add(ch);
                            ch.pipeline().addLast(new IdleStateHandler(0, 0, SINK_IDLE_SECONDS), new HttpServerCodec(),
                                    new HttpObjectAggregator(64 * 1024), new Sink());
                        }
                    })
                    .bind(new InetSocketAddress(loopback, 0)).sync().channel();
            channels.add(sinkListener);
            sink = new Server("http", loopback.getHostAddress(), ((InetSocketAddress) sinkListener.localAddress()).getPort(),
                    Server.DEFAULT_WEIGHT, false);
            refresh();
            ProxyStats stats = new ProxyStats();
            stats.registry = new SimpleMeterRegistry();
            int index = 0;
            for (EventExecutor executor : group) {
                Loop loop = loops.create(index++, (EventLoop) executor, shadow, stats);
                warmLoops.put(executor, loop);
                timers.add(executor.scheduleAtFixedRate(loop::sweep, loop.sweepPeriodMs(), loop.sweepPeriodMs(), TimeUnit.MILLISECONDS));
            }
            Channel front = new ServerBootstrap().group(group).channel(serverType)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            if (!clients.contains((InetSocketAddress) ch.remoteAddress())) {
                                ch.close();
                                return;
                            }
                            channels.add(ch);
                            ch.pipeline().addLast(new FrontConnection(warmLoops.get(ch.eventLoop()), timeouts, false));
                        }
                    })
                    .bind(new InetSocketAddress(loopback, 0)).sync().channel();
            channels.add(front);
            frontAddress = (InetSocketAddress) front.localAddress();
            double perTick = (double) rate * TICK_MS / 1000 / warmLoops.size();
            for (EventExecutor executor : group) {
                Client client = new Client((EventLoop) executor, perTick);
                executor.submit(client::connect).sync();
                timers.add(executor.scheduleAtFixedRate(client::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS));
            }
            timers.add(control.scheduleWithFixedDelay(this::refresh, REFRESH_MS, REFRESH_MS, TimeUnit.MILLISECONDS));
        }

        /** The cluster's routes and pools, each pool with the sink as its one server; and a request per route. */
        void refresh() {
            RoutingTable now = real.table();
            if (now == seen) {
                return;
            }
            seen = now;
            Topology topology = real.topology();
            shadow.onTopology(shadow(topology, sink));
            requests = requests(topology.routes());
        }

        void close() {
            closing = true;
            timers.forEach(t -> t.cancel(false));
            channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            // Each loop's own buffers and cached backend connections, on its thread, once no channel uses them.
            warmLoops.forEach((executor, loop) -> executor.submit(loop::close).awaitUninterruptibly(5, TimeUnit.SECONDS));
        }

        /**
         * Sends its share of the rate every tick, one request at a time on its keep-alive
         * connection; connects again at the next tick when that connection was closed (the
         * keep-alive timeout of a low rate, an error). Runs on its event loop only.
         */
        private final class Client {
            private final EventLoop eventLoop;
            private final double perTick;
            private double due;
            private boolean waiting;
            private int next;
            /** The connection, connected or connecting; null before the first. */
            private Channel channel;

            Client(EventLoop eventLoop, double perTick) {
                this.eventLoop = eventLoop;
                this.perTick = perTick;
            }

            /** Opens a connection to the listener; the run's close closes it, whenever it opens. */
            void connect() {
                waiting = false;
                Channel ch = new Bootstrap().group(eventLoop).channel(socketType)
                        .option(ChannelOption.TCP_NODELAY, true)
                        .handler(new ChannelInitializer<>() {
                            @Override
                            protected void initChannel(Channel c) {
                                c.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(64 * 1024), new Answers());
                            }
                        })
                        .register().channel();
                channel = ch;
                channels.add(ch);
                if (closing) {
                    ch.close();
                    return;
                }
                // Bound first, so that the listener knows the address it will see before the connection arrives.
                ch.bind(new InetSocketAddress(loopback, 0)).addListener((ChannelFutureListener) bound -> {
                    if (!bound.isSuccess()) {
                        ch.close();
                        return;
                    }
                    InetSocketAddress local = (InetSocketAddress) ch.localAddress();
                    clients.add(local);
                    ch.closeFuture().addListener(f -> clients.remove(local));
                    ch.connect(frontAddress).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
                });
            }

            void tick() {
                // A tick missed (a busy loop) is not made up for later with a burst.
                due = Math.min(due + perTick, Math.max(1, perTick));
                if (!channel.isOpen()) {
                    connect();
                    return;
                }
                send();
            }

            private void send() {
                List<FullHttpRequest> all = requests;
                if (waiting || due < 1 || all.isEmpty() || !channel.isActive()) {
                    return;
                }
                due--;
                waiting = true;
                channel.writeAndFlush(all.get(next++ % all.size()).retainedDuplicate())
                        .addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            }

            /** The answers on one of the client's connections. */
            private final class Answers extends SimpleChannelInboundHandler<FullHttpResponse> {
                @Override
                protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
                    waiting = false;
                    if (sent.incrementAndGet() == WARM_AFTER) {
                        LOG.infof("warm standby: %d synthetic requests sent through the proxy engine: this node would take over warm",
                                WARM_AFTER);
                    }
                    send();
                }

                @Override
                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    ctx.close();
                }
            }
        }
    }

    /** The cluster's routes, and each of its pools with the sink for its only server, as plain HTTP/1.1. */
    static Topology shadow(Topology real, Server sink) {
        List<Pool> pools = new ArrayList<>();
        for (Pool pool : real.pools()) {
            PoolSettings s = pool.settings();
            // No health checks and no passive ejection: the sink is never down, and there is no one to tell.
            PoolSettings plain = new PoolSettings(s.policy(), HealthCheckSpec.DEFAULTS,
                    new OutlierSpec(0, false, OutlierSpec.DEFAULTS.baseEjection(), OutlierSpec.DEFAULTS.maxEjection(), 0),
                    s.limits(), BackendTls.DEFAULTS, BackendProtocol.HTTP1);
            pools.add(Pool.of(pool.name(), plain, List.of(sink)));
        }
        return Topology.of(0, pools, real.routes(), Map.of());
    }

    /** A GET and a POST with a body that no route picks, and a GET for each of the first routes. */
    static List<FullHttpRequest> requests(List<Route> routes) {
        List<FullHttpRequest> requests = new ArrayList<>();
        requests.add(request(HttpMethod.GET, "warm-up.invalid", "/", null));
        requests.add(request(HttpMethod.POST, "warm-up.invalid", "/", POST_BODY));
        for (Route route : routes.subList(0, Math.min(MAX_ROUTES, routes.size()))) {
            String host = route.host().isEmpty() ? "warm-up.invalid"
                    : route.host().startsWith("*.") ? "warm-up" + route.host().substring(1) : route.host();
            requests.add(request(HttpMethod.GET, host, route.pathPrefix(), null));
        }
        return requests;
    }

    private static FullHttpRequest request(HttpMethod method, String host, String path, byte[] body) {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, path,
                body == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.HOST, host)
                .set(HttpHeaderNames.USER_AGENT, "weldr-warm-up")
                .set(HttpHeaderNames.ACCEPT, "*/*");
        if (body != null) {
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                    .set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
        }
        return r;
    }

    /** Answers every request with the same few bytes, keeping the connection open until it is silent too long. */
    private static final class Sink extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof IdleStateEvent) {
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(event);
            }
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(SINK_BODY));
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, SINK_BODY.length)
                    .set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
            ctx.writeAndFlush(response);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
