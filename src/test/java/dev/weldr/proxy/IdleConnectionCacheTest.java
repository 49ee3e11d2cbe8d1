package dev.weldr.proxy;

import dev.weldr.pool.BackendTls;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Server;
import dev.weldr.tls.BackendTrust;
import io.netty.handler.ssl.SslContext;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-loop cache of idle backend connections (nginx's {@code keepalive N}): bounded, most
 * recently used first, oldest out first, idle ones closed after their timeout. Real (embedded)
 * channels, the loop's own bookkeeping.
 */
class IdleConnectionCacheTest {

    private static final PoolTable PLAIN = new PoolTable("default", PoolSettings.DEFAULTS, List.of(), 0, null);

    private static Loop loop(int maxIdle, long idleTimeoutMs) {
        return new Loop(0, null, null, new BackendRegistry(), null, 1000, 60_000, 60_000, idleTimeoutMs, maxIdle);
    }

    private static Backend backend(int port) {
        return new Backend("default", new Server("http", "127.0.0.1", port, 1, false));
    }

    private static BackendConnection connection(Loop loop, Backend backend) {
        return connection(loop, backend, null);
    }

    private static BackendConnection connection(Loop loop, Backend backend, SslContext tls) {
        BackendConnection c = new BackendConnection(loop, backend, backend.socketAddress(), tls);
        new EmbeddedChannel(c);
        return c;
    }

    @Test
    void shouldNotReuseATlsConnectionMadeUnderAPoolSettingSinceChanged() throws Exception {
        Loop loop = loop(8, 60_000);
        Backend https = new Backend("default", new Server("https", "127.0.0.1", 8443, 1, false));
        SslContext unverified = BackendTrust.clientContext(new BackendTls(false, null, null));
        SslContext verified = BackendTrust.clientContext(BackendTls.DEFAULTS);
        PoolTable before = new PoolTable("default", PoolSettings.DEFAULTS, List.of(), 0, unverified);
        PoolTable after = new PoolTable("default", PoolSettings.DEFAULTS, List.of(), 0, verified);
        BackendConnection old = connection(loop, https, unverified);
        loop.offerIdle(old);
        assertNull(loop.takeIdle(https, after), "made without verification: not used once the pool verifies");
        assertFalse(old.channel.isActive(), "and closed");
        BackendConnection current = connection(loop, https, verified);
        loop.offerIdle(current);
        assertNull(loop.takeIdle(https, before), "nor the other way round");
        BackendConnection again = connection(loop, https, verified);
        loop.offerIdle(again);
        assertSame(again, loop.takeIdle(https, after));
    }

    @Test
    void shouldHandBackTheMostRecentlyUsedConnectionOfTheServerAsked() {
        Loop loop = loop(8, 60_000);
        Backend a = backend(8001);
        Backend b = backend(8002);
        BackendConnection a1 = connection(loop, a);
        BackendConnection a2 = connection(loop, a);
        BackendConnection b1 = connection(loop, b);
        loop.offerIdle(a1);
        loop.offerIdle(b1);
        loop.offerIdle(a2);
        assertEquals(3, loop.idleCount());

        assertSame(a2, loop.takeIdle(a, PLAIN));
        assertSame(a1, loop.takeIdle(a, PLAIN));
        assertNull(loop.takeIdle(a, PLAIN));
        assertSame(b1, loop.takeIdle(b, PLAIN));
        assertEquals(0, loop.idleCount());
        assertTrue(a1.channel.isActive() && a2.channel.isActive() && b1.channel.isActive(), "taken, not closed");
    }

    @Test
    void shouldNotHandBackAConnectionToAnAddressTheServersNameNoLongerHas() throws Exception {
        Loop loop = loop(8, 60_000);
        Backend named = new Backend("default", new Server("http", "localhost", 8001, 1, false));
        // A name is not looked up where the backend is made (that is where Raft applies): the first lookup's answer.
        java.net.InetAddress loopback = java.net.InetAddress.getByAddress("localhost", new byte[]{127, 0, 0, 1});
        assertEquals(loopback, named.resolved(new java.net.InetAddress[]{loopback}).getAddress());
        BackendConnection old = connection(loop, named);
        loop.offerIdle(old);
        assertEquals(1, loop.idleCount());

        assertNull(named.resolved(new java.net.InetAddress[]{named.socketAddress().getAddress()}), "same address: no change");
        java.net.InetAddress elsewhere = java.net.InetAddress.getByAddress("localhost", new byte[]{127, 0, 0, 9});
        assertEquals(elsewhere, named.resolved(new java.net.InetAddress[]{elsewhere}).getAddress());

        assertNull(loop.takeIdle(named, PLAIN), "a connection to the old address is not reused");
        assertFalse(old.channel.isActive(), "it is closed");
        assertEquals(0, loop.idleCount());
        BackendConnection fresh = connection(loop, named);
        loop.offerIdle(fresh);
        assertSame(fresh, loop.takeIdle(named, PLAIN));
    }

    @Test
    void shouldKeepTheCurrentAddressWhileTheNameStillHasIt() throws Exception {
        Backend named = new Backend("default", new Server("http", "localhost", 8001, 1, false));
        // A name is not looked up where the backend is made (that is where Raft applies): the first lookup's answer.
        java.net.InetAddress loopback = java.net.InetAddress.getByAddress("localhost", new byte[]{127, 0, 0, 1});
        assertEquals(loopback, named.resolved(new java.net.InetAddress[]{loopback}).getAddress());
        java.net.InetAddress current = named.socketAddress().getAddress();
        java.net.InetAddress other = java.net.InetAddress.getByAddress("localhost", new byte[]{127, 0, 0, 9});
        // A name with several addresses served in turn does not move the server at every lookup.
        assertNull(named.resolved(new java.net.InetAddress[]{other, current}));
        assertEquals(current, named.socketAddress().getAddress());
        assertNull(named.resolved(new java.net.InetAddress[0]), "a failed lookup keeps the address");
        assertEquals(current, named.socketAddress().getAddress());
    }

    @Test
    void shouldTellAddressLiteralsFromNames() {
        assertTrue(Backend.isAddressLiteral("10.0.0.1"));
        assertTrue(Backend.isAddressLiteral("::1"));
        assertTrue(Backend.isAddressLiteral("2001:db8::a"));
        assertFalse(Backend.isAddressLiteral("localhost"));
        assertFalse(Backend.isAddressLiteral("myapp_web_1"));
        assertFalse(Backend.isAddressLiteral("1.example"));
    }

    @Test
    void shouldCloseTheOldestIdleConnectionOfTheLoopWhenOneMoreThanTheBoundArrives() {
        Loop loop = loop(2, 60_000);
        Backend a = backend(8001);
        Backend b = backend(8002);
        BackendConnection oldest = connection(loop, a);
        BackendConnection middle = connection(loop, b);
        BackendConnection newest = connection(loop, a);
        loop.offerIdle(oldest);
        loop.offerIdle(middle);
        loop.offerIdle(newest);

        assertEquals(2, loop.idleCount());
        assertFalse(oldest.channel.isOpen(), "the oldest was closed");
        assertSame(newest, loop.takeIdle(a, PLAIN));
        assertNull(loop.takeIdle(a, PLAIN), "the closed one is no longer handed out");
        assertSame(middle, loop.takeIdle(b, PLAIN));
    }

    @Test
    void shouldCloseIdleConnectionsPastTheIdleTimeoutAndKeepTheOthers() {
        Loop loop = loop(8, 30_000);
        Backend a = backend(8001);
        BackendConnection stale = connection(loop, a);
        BackendConnection fresh = connection(loop, a);
        loop.offerIdle(stale);
        loop.offerIdle(fresh);
        stale.idleSinceNanos = System.nanoTime() - 31_000_000_000L;

        loop.sweep();

        assertFalse(stale.channel.isOpen());
        assertTrue(fresh.channel.isOpen());
        assertEquals(1, loop.idleCount());
        assertSame(fresh, loop.takeIdle(a, PLAIN));
    }

    @Test
    void shouldNotCacheAConnectionToAServerThatLeftThePool() {
        Loop loop = loop(8, 60_000);
        Backend a = backend(8001);
        BackendConnection c = connection(loop, a);
        a.retire();

        loop.offerIdle(c);

        assertFalse(c.channel.isOpen());
        assertEquals(0, loop.idleCount());
    }

    @Test
    void shouldForgetAnIdleConnectionTheServerClosed() {
        Loop loop = loop(8, 60_000);
        Backend a = backend(8001);
        BackendConnection c = connection(loop, a);
        loop.offerIdle(c);

        c.channel.close();

        assertEquals(0, loop.idleCount());
        assertNull(loop.takeIdle(a, PLAIN));
    }

    @Test
    void shouldShareHalfTheDescriptorsBetweenTheLoopsWithinSaneBounds() {
        assertEquals(5000, ProxyServer.maxIdlePerLoop(20_000, 2));
        assertEquals(64, ProxyServer.maxIdlePerLoop(100, 2));
        assertEquals(16_384, ProxyServer.maxIdlePerLoop(1_048_576, 2));
        assertEquals(1024, ProxyServer.maxIdlePerLoop(-1, 4));
    }
}
