package dev.weldr.proxy;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A backend that accepts a connection, reads the whole request and then resets the connection
 * without answering (SO_LINGER 0, so the proxy sees a reset rather than an orderly close).
 * weldr's health checks are answered {@code 200}, so the server stays {@code active} and the
 * tests do not race the health checker. JDK sockets, because a server library always answers.
 */
final class ResettingBackend implements AutoCloseable {

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "resetting-backend");
        t.setDaemon(true);
        return t;
    });
    private final List<String> seen = new CopyOnWriteArrayList<>();

    ResettingBackend() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                threads.execute(() -> serve(socket));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setSoTimeout(10_000);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            String requestLine = readLine(in);
            boolean healthCheck = false;
            long contentLength = 0;
            for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
                String lower = line.toLowerCase(Locale.ROOT);
                if (lower.startsWith("user-agent:") && lower.contains(TestBackend.HEALTH_CHECK_AGENT)) {
                    healthCheck = true;
                } else if (lower.startsWith("content-length:")) {
                    contentLength = Long.parseLong(line.substring(15).trim());
                }
            }
            in.readNBytes(Math.toIntExact(contentLength));
            if (healthCheck) {
                socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.ISO_8859_1));
                return;
            }
            seen.add(requestLine);
            socket.setSoLinger(true, 0); // close() now sends RST
        } catch (IOException e) {
            // the peer went away first: nothing to do
        }
    }

    /** One line of a head, without its CR LF (or bare LF); an IOException at the end of the stream. */
    static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("closed");
            }
            if (b != '\r') {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }

    int port() {
        return server.getLocalPort();
    }

    String id() {
        return "127.0.0.1:" + port();
    }

    /** The request lines of the proxied requests it received (and reset). */
    List<String> seen() {
        return List.copyOf(seen);
    }

    @Override
    public void close() throws Exception {
        server.close();
        threads.shutdownNow();
        threads.awaitTermination(5, TimeUnit.SECONDS);
    }
}
