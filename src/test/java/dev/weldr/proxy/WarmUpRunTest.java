package dev.weldr.proxy;

import dev.weldr.cluster.Leadership;
import dev.weldr.ha.GracefulStop;
import dev.weldr.pool.Pool;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Route;
import dev.weldr.pool.Server;
import dev.weldr.pool.Topology;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Warm-up runs on real event loops and loopback sockets: started and stopped by the node's
 * leadership as it is when the control thread acts, never started once the node stops, leaving
 * nothing behind, and kept alive across closed connections.
 */
class WarmUpRunTest {

    private static final Leadership.State FOLLOWER = new Leadership.State(Leadership.Role.FOLLOWER, "b:1", 3);
    private static final Leadership.State LEADER = new Leadership.State(Leadership.Role.LEADER, "a:1", 4);
    private static final long DEADLINE_MS = 30_000;

    private final NioEventLoopGroup group = new NioEventLoopGroup(2);
    private final AtomicReference<Leadership.State> leadership = new AtomicReference<>(new Leadership.State(Leadership.Role.CANDIDATE, null, 0));
    private final List<Loop> created = new CopyOnWriteArrayList<>();
    private WarmUp warmUp;

    @AfterEach
    void tearDown() {
        if (warmUp != null) {
            warmUp.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    private WarmUp warmUp(int rate, long keepAliveMs) {
        BackendRegistry real = new BackendRegistry();
        real.onTopology(Topology.of(1, List.of(Pool.of("web", PoolSettings.DEFAULTS, List.of(new Server("http", "127.0.0.1", 9, 1, false)))),
                List.of(new Route("web", "", "/", "web")), Map.of()));
        long s = TimeUnit.SECONDS.toNanos(10);
        ClientTimeouts timeouts = new ClientTimeouts(s, s, s, TimeUnit.MILLISECONDS.toNanos(keepAliveMs), s);
        warmUp = new WarmUp(group, NioServerSocketChannel.class, NioSocketChannel.class, timeouts, real, rate, leadership::get,
                (i, eventLoop, shadow, own) -> {
                    Loop loop = new Loop(i, eventLoop, NioSocketChannel.class, shadow, own, 1000, 5000, 5000, 30_000, 16);
                    created.add(loop);
                    return loop;
                });
        return warmUp;
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + DEADLINE_MS + " ms: " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }

    @Test
    void shouldLeaveNoDirectMemoryNorBackendConnectionBehindAfterManyRuns() {
        WarmUp w = warmUp(2000, 60_000);
        long before = UnpooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
        for (int i = 0; i < 20; i++) {
            leadership.set(FOLLOWER);
            w.roleChanged();
            long sentBefore = w.sent();
            await("run " + i + " sends requests", () -> w.running() && w.sent() > sentBefore + 20);
            leadership.set(LEADER);
            w.roleChanged();
            await("run " + i + " stops", () -> !w.running());
        }
        long after = UnpooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
        // Each run's loops held a 64 KiB slab each: 20 runs of 2 loops would leave 2.5 MiB.
        assertTrue(after - before < 64 * 1024, "direct memory grew by " + (after - before) + " bytes over 20 runs");
        assertEquals(40, created.size());
        for (Loop loop : created) {
            assertEquals(0, loop.idleCount(), "a finished run's loop keeps no backend connection");
        }
    }

    @Test
    void shouldKeepSendingAcrossKeepAliveTimeoutsOfTheFrontSide() {
        // Two requests a second over two loops: each client's connection is idle for a second
        // between requests, and the front side closes it after 300 ms.
        WarmUp w = warmUp(2, 300);
        leadership.set(FOLLOWER);
        w.roleChanged();
        await("a dozen requests, over many keep-alive periods", () -> w.sent() >= 12);
    }

    @Test
    void shouldStartNoRunOnceTheNodeStops() throws Exception {
        WarmUp w = warmUp(100, 60_000);
        w.stopping();
        // The leader handed leadership over on SIGTERM and now follows.
        leadership.set(FOLLOWER);
        w.roleChanged();
        w.settled();
        assertFalse(w.running(), "a stopping node starts no warm-up");
        assertEquals(0, w.sent());
    }

    @Test
    void shouldMarkTheWarmUpStoppingBeforeTheLeaderHandsOver() throws Exception {
        Method stopping = ProxyServer.class.getDeclaredMethod("stopping", ShutdownEvent.class);
        Method handOver = GracefulStop.class.getDeclaredMethod("stop", ShutdownEvent.class);
        int first = stopping.getParameters()[0].getAnnotation(Priority.class).value();
        int then = handOver.getParameters()[0].getAnnotation(Priority.class).value();
        assertTrue(first < then, "observers run lowest priority first: " + first + " must be below " + then);
    }

    @Test
    void shouldActOnTheRoleAsItIsWhenTheControlThreadGetsToIt() throws Exception {
        WarmUp w = warmUp(100, 60_000);
        // A FOLLOWER told first, but the node is leader by the time the control thread acts.
        leadership.set(LEADER);
        w.roleChanged();
        w.settled();
        assertFalse(w.running(), "the node is leader: no run");
        leadership.set(FOLLOWER);
        w.roleChanged();
        await("a follower runs", w::running);
    }

    @Test
    void shouldCloseTheSinksConnectionsPastItsCap() throws Exception {
        WarmUp w = warmUp(10, 60_000);
        leadership.set(FOLLOWER);
        w.roleChanged();
        await("the run started", w::running);
        int port = w.sinkPort();
        List<Socket> sockets = new ArrayList<>();
        try {
            int cap = WarmUp.SINK_CONNECTIONS_PER_LOOP * 2;
            // The warm loops hold one or two of the cap themselves: some of these are closed.
            for (int i = 0; i < cap + 1; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
                s.setSoTimeout((int) DEADLINE_MS);
                sockets.add(s);
            }
            int closed = 0;
            for (Socket s : sockets) {
                s.getOutputStream().write("GET / HTTP/1.1\r\nhost: x\r\n\r\n".getBytes());
                InputStream in = s.getInputStream();
                try {
                    if (in.read() == -1) {
                        closed++;
                    }
                } catch (java.net.SocketException e) {
                    closed++;
                }
            }
            assertTrue(closed >= 1, "a connection past " + cap + " is closed");
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
