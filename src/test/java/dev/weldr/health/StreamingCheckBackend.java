package dev.weldr.health;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A backend whose every answer is a status line and an endless chunked body: it writes until the
 * client closes the connection, or until {@link #CAP} bytes, where it stops writing and records that
 * the client kept reading (a check that buffers bodies would have). One connection per request, as
 * weldr's checks open them.
 */
final class StreamingCheckBackend implements AutoCloseable {

    /** More than any socket buffers between the two ends on loopback; less than a test JVM's heap. */
    static final long CAP = 64L << 20;

    /** What one connection saw: body bytes written, and whether the client closed it before the cap. */
    record Answer(int status, long written, boolean closedByClient) {
    }

    private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final List<Answer> answers = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private volatile int status;

    StreamingCheckBackend(int status) throws IOException {
        this.status = status;
        Thread acceptor = new Thread(this::accept, "streaming-check-backend");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return socket.getLocalPort();
    }

    void status(int status) {
        this.status = status;
    }

    List<Answer> answers() {
        return List.copyOf(answers);
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                Socket s = socket.accept();
                open.add(s);
                Thread t = new Thread(() -> stream(s), "streaming-check-answer");
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void stream(Socket s) {
        int code = status;
        long written = 0;
        boolean closed = false;
        try (s) {
            readHead(s.getInputStream());
            OutputStream out = s.getOutputStream();
            out.write(("HTTP/1.1 " + code + " Streaming\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[65536];
            byte[] size = (Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] crlf = "\r\n".getBytes(StandardCharsets.US_ASCII);
            while (written < CAP) {
                out.write(size);
                out.write(chunk);
                out.write(crlf);
                written += chunk.length;
            }
        } catch (IOException e) {
            closed = true;
        } finally {
            open.remove(s);
        }
        answers.add(new Answer(code, written, closed));
    }

    private static void readHead(InputStream in) throws IOException {
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed before the end of the request head");
            }
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
        for (Socket s : open) {
            s.close();
        }
    }
}
