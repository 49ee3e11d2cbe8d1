package dev.weldr.proxy;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An HTTP/1.1 client on a plain socket, for what a library client hides or rewrites: the exact
 * header lines sent (hop-by-hop headers, Host, several lines of one header), the framing of a
 * body (chunked or Content-Length) and whether any byte follows the head of a HEAD answer.
 * One instance is one keep-alive connection.
 */
final class RawHttp implements Closeable {

    /** A response head as received: status and header lines in order. */
    record Head(int status, List<Map.Entry<String, String>> headers) {
        String header(String name) {
            for (Map.Entry<String, String> h : headers) {
                if (h.getKey().equalsIgnoreCase(name)) {
                    return h.getValue();
                }
            }
            return null;
        }

        List<String> all(String name) {
            List<String> values = new ArrayList<>();
            for (Map.Entry<String, String> h : headers) {
                if (h.getKey().equalsIgnoreCase(name)) {
                    values.add(h.getValue());
                }
            }
            return values;
        }

        boolean has(String name) {
            return header(name) != null;
        }

        boolean chunked() {
            String te = header("transfer-encoding");
            return te != null && te.toLowerCase(Locale.ROOT).contains("chunked");
        }

        long contentLength() {
            String cl = header("content-length");
            return cl == null ? -1 : Long.parseLong(cl.trim());
        }
    }

    /** A whole response; {@code chunkSizes} lists the chunk sizes when the body was chunked. */
    record Response(Head head, byte[] body, List<Integer> chunkSizes) {
        int status() {
            return head.status();
        }

        String header(String name) {
            return head.header(name);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    static RawHttp connect(int port) throws IOException {
        return connect(port, -1, -1);
    }

    /** Over a socket already connected (a TLS socket after its handshake). */
    static RawHttp over(Socket socket) throws IOException {
        return new RawHttp(socket);
    }

    /**
     * With small socket buffers (a value &gt; 0) the kernel holds little of what the client
     * writes or has not read yet; a value set before connecting also turns off autotuning.
     */
    static RawHttp connect(int port, int sendBufferSize, int receiveBufferSize) throws IOException {
        Socket socket = new Socket();
        if (sendBufferSize > 0) {
            socket.setSendBufferSize(sendBufferSize);
        }
        if (receiveBufferSize > 0) {
            socket.setReceiveBufferSize(receiveBufferSize);
        }
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
        socket.setSoTimeout(15_000);
        socket.setTcpNoDelay(true);
        return new RawHttp(socket);
    }

    /** Writes a request head: the request line and header lines, each without its CRLF. */
    RawHttp sendHead(String... lines) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String line : lines) {
            sb.append(line).append("\r\n");
        }
        sb.append("\r\n");
        out.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return this;
    }

    RawHttp send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    RawHttp send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** How long a read may block before it fails with a SocketTimeoutException (15 s by default). */
    RawHttp readTimeout(Duration timeout) throws IOException {
        socket.setSoTimeout(Math.toIntExact(timeout.toMillis()));
        return this;
    }

    OutputStream out() {
        return out;
    }

    InputStream in() {
        return in;
    }

    /** {@code GET path} with a Host header, and its whole response. */
    Response get(String path) throws IOException {
        sendHead("GET " + path + " HTTP/1.1", "Host: weldr.test");
        return read(false);
    }

    /** Reads one response; after a HEAD request, no body is read. */
    Response read(boolean headRequest) throws IOException {
        Head head = readHead();
        if (headRequest || head.status() / 100 == 1 || head.status() == 204 || head.status() == 304) {
            return new Response(head, new byte[0], List.of());
        }
        if (head.chunked()) {
            List<Integer> sizes = new ArrayList<>();
            byte[] body = readChunked(sizes);
            return new Response(head, body, sizes);
        }
        long length = head.contentLength();
        if (length >= 0) {
            return new Response(head, in.readNBytes(Math.toIntExact(length)), List.of());
        }
        return new Response(head, in.readAllBytes(), List.of());
    }

    /**
     * Reads a status line and header lines. The first bytes must be a status line: anything
     * else (say, body bytes of a previous HEAD answer) fails here.
     */
    Head readHead() throws IOException {
        String status = readLine();
        if (!status.startsWith("HTTP/1.1 ") && !status.startsWith("HTTP/1.0 ")) {
            throw new IOException("expected a status line, got: " + status);
        }
        int code = Integer.parseInt(status.substring(9, 12));
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            int colon = line.indexOf(':');
            headers.add(Map.entry(line.substring(0, colon).trim(), line.substring(colon + 1).trim()));
        }
        return new Head(code, headers);
    }

    private byte[] readChunked(List<Integer> sizes) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = readLine();
            int semicolon = sizeLine.indexOf(';');
            int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            if (size == 0) {
                while (!readLine().isEmpty()) {
                    // trailer fields: none expected, skipped
                }
                return body.toByteArray();
            }
            sizes.add(size);
            body.write(in.readNBytes(size));
            if (!readLine().isEmpty()) {
                throw new IOException("a chunk is not followed by CRLF");
            }
        }
    }

    private String readLine() throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed after: " + sb);
            }
            if (b == '\n') {
                int len = sb.length();
                if (len > 0 && sb.charAt(len - 1) == '\r') {
                    sb.setLength(len - 1);
                }
                return sb.toString();
            }
            sb.append((char) b);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
