package dev.weldr.ui;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

/** A backend on a free loopback port that answers 200, or 500 once told to fail (health checks included). */
public final class SwitchableBackend implements AutoCloseable {

    private final HttpServer server;
    private final AtomicBoolean failing = new AtomicBoolean();

    static {
        // The JDK's server writes headers and body apart; with Nagle's algorithm each answer then waits
        // for a delayed ACK (about 40 ms), which the page would show as weldr's latency. Read once, at its first start.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    public SwitchableBackend() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a test backend", e);
        }
        server.createContext("/", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                boolean fail = failing.get();
                byte[] body = (fail ? "failing" : "ok").getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(fail ? 500 : 200, body.length);
                exchange.getResponseBody().write(body);
            }
        });
        server.start();
    }

    public void fail(boolean fail) {
        failing.set(fail);
    }

    /** {@code 127.0.0.1:PORT}: the server's id in the admin API. */
    public String id() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    public String url() {
        return "http://" + id();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
