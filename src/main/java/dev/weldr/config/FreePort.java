package dev.weldr.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Resolves a configured port of 0 ("pick a free port") before a listener that needs to know it starts. */
public final class FreePort {

    private FreePort() {
    }

    public static int pick(String host) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(host, 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind a free port on " + host, e);
        }
    }
}
