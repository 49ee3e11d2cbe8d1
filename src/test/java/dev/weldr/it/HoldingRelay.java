package dev.weldr.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A TCP relay of the test's own on a loopback address, in front of a node's plain listener on
 * 127.0.0.1: it forwards each connection, or, while told to hold, accepts and reads new
 * connections without forwarding a byte until released. What a CA's validation request waits
 * on when the test needs an order to stay pending for as long as it takes to kill a leader
 * (Pebble's own sleep may draw 0, and the request times out after 15 s). It records the first
 * line of each request and of each answer, so a test knows the token asked for and what the
 * node answered.
 */
final class HoldingRelay implements AutoCloseable {

    /** What a held connection may send before it is forwarded: one HTTP-01 request is a few hundred bytes. */
    private static final int MAX_HELD_BYTES = 64 * 1024;
    private static final byte[] END = new byte[0];

    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<String> requestLines = new CopyOnWriteArrayList<>();
    private final List<String> responseLines = new CopyOnWriteArrayList<>();
    private boolean holding;
    private int targetPort;
    private int held;
    private long heldSince;
    private long longestHoldNanos;

    /** Listens on {@code host:port} (a 127/8 address; port 0: a free one) and forwards to 127.0.0.1:{@code targetPort}. */
    HoldingRelay(String host, int port, int targetPort) {
        try {
            server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getByName(host), port));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.targetPort = targetPort;
        Thread acceptor = new Thread(this::accept, "relay-accept-" + port);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** New connections wait, read but not forwarded, until {@link #release}. */
    synchronized void hold() {
        holding = true;
    }

    /** Forwards the held connections to 127.0.0.1:{@code port}, and every later one too. */
    synchronized void release(int port) {
        targetPort = port;
        holding = false;
        if (held > 0) {
            longestHoldNanos = Math.max(longestHoldNanos, System.nanoTime() - heldSince);
        }
        notifyAll();
    }

    /** Connections accepted and held now. */
    synchronized int held() {
        return held;
    }

    /** How long the first of the connections held at the last release had waited. */
    synchronized Duration longestHold() {
        return Duration.ofNanos(longestHoldNanos);
    }

    /** The first line of each request, in the order they arrived (held ones included). */
    List<String> requestLines() {
        return List.copyOf(requestLines);
    }

    /** The first line of each answer the target sent back. */
    List<String> responseLines() {
        return List.copyOf(responseLines);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                Thread t = new Thread(() -> relay(client), "relay-" + client.getPort());
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void relay(Socket client) {
        BlockingQueue<byte[]> fromClient = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> read(client, fromClient), "relay-read-" + client.getPort());
        reader.setDaemon(true);
        reader.start();
        int port;
        synchronized (this) {
            if (holding) {
                if (held++ == 0) {
                    heldSince = System.nanoTime();
                }
                try {
                    while (holding) {
                        wait();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } finally {
                    held--;
                }
            }
            port = targetPort;
        }
        try (client; Socket target = new Socket()) {
            sockets.add(target);
            target.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            Thread back = new Thread(() -> pump(target, client), "relay-back-" + client.getPort());
            back.setDaemon(true);
            back.start();
            OutputStream out = target.getOutputStream();
            for (byte[] chunk = fromClient.take(); chunk != END; chunk = fromClient.take()) {
                out.write(chunk);
                out.flush();
            }
            target.shutdownOutput();
            back.join(30_000);
        } catch (IOException | InterruptedException ignored) {
            // The client or the target went away: the connection ends, as a TCP proxy's does.
        }
    }

    /** Reads the client as its bytes come, held or not, and notes its request line. */
    private void read(Socket client, BlockingQueue<byte[]> into) {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        boolean lineSeen = false;
        long total = 0;
        try {
            InputStream in = client.getInputStream();
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) > 0; ) {
                total += n;
                if (total > MAX_HELD_BYTES) {
                    break;
                }
                if (!lineSeen) {
                    head.write(buf, 0, n);
                    lineSeen = noteFirstLine(head, requestLines);
                }
                byte[] chunk = new byte[n];
                System.arraycopy(buf, 0, chunk, 0, n);
                into.add(chunk);
            }
        } catch (IOException ignored) {
            // Closed: what came is forwarded.
        }
        into.add(END);
    }

    private void pump(Socket from, Socket to) {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        boolean lineSeen = false;
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) > 0; ) {
                if (!lineSeen) {
                    head.write(buf, 0, n);
                    lineSeen = noteFirstLine(head, responseLines);
                }
                out.write(buf, 0, n);
                out.flush();
            }
            to.shutdownOutput();
        } catch (IOException ignored) {
            // Either side closed.
        }
    }

    private static boolean noteFirstLine(ByteArrayOutputStream head, List<String> lines) {
        String s = head.toString(StandardCharsets.ISO_8859_1);
        int eol = s.indexOf("\r\n");
        if (eol < 0) {
            return head.size() > 8192;
        }
        lines.add(s.substring(0, eol));
        return true;
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // Closing.
        }
        List<Socket> all = new ArrayList<>(sockets);
        for (Socket s : all) {
            try {
                s.close();
            } catch (IOException ignored) {
                // Closing.
            }
        }
        synchronized (this) {
            holding = false;
            notifyAll();
        }
    }
}
