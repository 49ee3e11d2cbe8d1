package dev.weldr.proxy;

import java.io.ByteArrayOutputStream;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * A backend on JDK sockets that records every byte the proxy sends it, as it came (a head cut
 * short included), and answers each request whole (head, then a body by Content-Length or by
 * chunks, trailers included) with the bytes its script gives for that request's number, as they
 * are: interim responses, odd framings and all. weldr's health checks get a 200 and are not
 * recorded.
 */
final class RecordingBackend implements AutoCloseable {

    /** The bytes of one proxied connection, in order. */
    private static final class Recorded {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        volatile boolean healthCheck;
        volatile boolean carriedRequests;
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "recording-backend");
        t.setDaemon(true);
        return t;
    });
    private final List<Recorded> connections = new CopyOnWriteArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final IntFunction<String> script;

    /** {@code script}: the response bytes for the n-th proxied request (from 0). */
    RecordingBackend(IntFunction<String> script) throws IOException {
        this.script = script;
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    threads.execute(() -> serve(socket));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    /** Answers every request {@code 200 ok}. */
    static RecordingBackend ok() throws IOException {
        return new RecordingBackend(n -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }

    private void serve(Socket socket) {
        Recorded recorded = new Recorded();
        connections.add(recorded);
        try (socket) {
            InputStream raw = socket.getInputStream();
            InputStream in = new InputStream() {
                @Override
                public int read() throws IOException {
                    int b = raw.read();
                    if (b >= 0) {
                        synchronized (recorded) {
                            recorded.bytes.write(b);
                        }
                    }
                    return b;
                }
            };
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                String lower = head.toLowerCase(Locale.ROOT);
                if (lower.contains(TestBackend.HEALTH_CHECK_AGENT)) {
                    recorded.healthCheck = true;
                    socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    continue;
                }
                if (lower.contains("transfer-encoding: chunked")) {
                    readChunked(in);
                } else {
                    int at = lower.indexOf("content-length:");
                    if (at >= 0) {
                        in.readNBytes(Integer.parseInt(lower.substring(at + 15, lower.indexOf('\r', at)).trim()));
                    }
                }
                recorded.carriedRequests = true;
                String response = script.apply(requests.getAndIncrement());
                socket.getOutputStream().write(response.getBytes(StandardCharsets.ISO_8859_1));
                socket.getOutputStream().flush();
            }
        } catch (IOException e) {
            // the proxy closed the connection
        }
    }

    /** A head up to its empty line; null when the connection ended first. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.append((char) b);
        }
        return head.toString();
    }

    private static void readChunked(InputStream in) throws IOException {
        while (true) {
            String line = ResettingBackend.readLine(in);
            int semicolon = line.indexOf(';');
            int size = Integer.parseInt((semicolon < 0 ? line : line.substring(0, semicolon)).trim(), 16);
            if (size == 0) {
                while (!ResettingBackend.readLine(in).isEmpty()) {
                    // trailer lines: recorded, nothing to do with them
                }
                return;
            }
            in.readNBytes(size);
            ResettingBackend.readLine(in);
        }
    }

    int port() {
        return server.getLocalPort();
    }

    /** Every byte the proxy sent for its clients (health checks left out), connection after connection. */
    String received() {
        StringBuilder all = new StringBuilder();
        for (Recorded r : connections) {
            if (!r.healthCheck) {
                synchronized (r) {
                    all.append(r.bytes.toString(StandardCharsets.ISO_8859_1));
                }
            }
        }
        return all.toString();
    }

    /** Proxied requests answered so far. */
    int requests() {
        return requests.get();
    }

    /** Connections that carried proxied requests. */
    long requestConnections() {
        return connections.stream().filter(r -> r.carriedRequests).count();
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
