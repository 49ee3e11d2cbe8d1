package dev.weldr.proxy;

import dev.weldr.pool.Server;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;

import java.util.concurrent.atomic.LongAdder;

/**
 * A server as the data plane sees it: the desired server, this node's view of its health,
 * and what the proxy counted for it. One instance lives as long as the server is in the pool.
 */
public final class Backend {

    private volatile Server server;
    private volatile boolean up = true;
    private final SocketAddress address;
    final LongAdder success = new LongAdder();
    final LongAdder failed = new LongAdder();

    Backend(Server server) {
        this.server = server;
        this.address = SocketAddress.inetSocketAddress(server.port(), server.host());
    }

    public Server server() {
        return server;
    }

    void server(Server updated) {
        this.server = updated;
    }

    /** Up as far as this node's health checks know; a new server starts up. */
    public boolean up() {
        return up;
    }

    void up(boolean value) {
        this.up = value;
    }

    public boolean routable() {
        return up && !server.draining();
    }

    /** {@code active}, {@code down} or {@code draining}, as this node sees it. */
    public String state() {
        if (server.draining()) {
            return "draining";
        }
        return up ? "active" : "down";
    }

    public long successCount() {
        return success.sum();
    }

    public long failedCount() {
        return failed.sum();
    }

    RequestOptions requestOptions(long connectTimeoutMs, long readTimeoutMs) {
        return new RequestOptions()
                .setServer(address)
                .setSsl("https".equals(server.scheme()))
                .setConnectTimeout(connectTimeoutMs)
                .setIdleTimeout(readTimeoutMs);
    }
}
