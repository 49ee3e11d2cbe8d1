package dev.weldr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;

/**
 * One HTTP/2 connection spoken frame by frame, for the attacks: an HTTP/2 client library (Netty's
 * codec, python3-h2) keeps its own side of the protocol right, and refuses to send exactly the
 * frames an attack is made of (endless CONTINUATION, WINDOW_UPDATE 0, DATA on a closed stream).
 * Frames go out as written; a reader thread records what the server answered: its SETTINGS,
 * GOAWAY, RST_STREAM codes, response statuses, and when the connection closed. Only HPACK comes
 * from Netty (its encoder and decoder), since header blocks the attacks do not forge must still
 * be valid.
 */
final class H2Wire implements Closeable {

    static final int DATA = 0, HEADERS = 1, PRIORITY = 2, RST_STREAM = 3, SETTINGS = 4, PING = 6, GOAWAY = 7,
            WINDOW_UPDATE = 8, CONTINUATION = 9;
    static final int END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY_FLAG = 0x20;
    static final int SETTINGS_ENABLE_PUSH = 2, SETTINGS_MAX_CONCURRENT_STREAMS = 3, SETTINGS_INITIAL_WINDOW_SIZE = 4;
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    record GoAway(long code, int lastStream, String debug) {
        @Override
        public String toString() {
            return "GOAWAY " + errorName(code) + " last-stream " + lastStream
                    + (debug.isEmpty() ? "" : " \"" + (debug.length() > 120 ? debug.substring(0, 120) + "…" : debug) + "\"");
        }
    }

    /** Where to connect: h2c with prior knowledge when {@code tls} is null, else h2 through ALPN. */
    record Target(String host, int port, SSLContext tls) {
        String scheme() {
            return tls == null ? "http" : "https";
        }

        @Override
        public String toString() {
            return (tls == null ? "h2c://" : "h2://") + host + ":" + port;
        }
    }

    private final Target target;
    private final Socket socket;
    private final OutputStream out;
    private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder(
            Http2HeadersEncoder.NEVER_SENSITIVE, true);
    private final AtomicInteger nextStream = new AtomicInteger(1);
    private final Object readerLock = new Object();
    private Thread reader;
    /**
     * Held while a frame is written. An attack's writer may block on it for long (the server
     * stopped reading): the reader then skips its own answers (SETTINGS and PING ACKs, window
     * updates) rather than wait, so that it still sees what the server does.
     */
    private final ReentrantLock writeLock = new ReentrantLock();

    // ---- what the server did --------------------------------------------------------------
    volatile Map<Integer, Long> serverSettings;
    /** Every GOAWAY, in order (a server may send a graceful one before or after the one naming an error). */
    final List<GoAway> goAways = new CopyOnWriteArrayList<>();
    volatile Long goAwayCode;
    volatile boolean closed;
    volatile String closedBy = "";
    final Map<Integer, Long> resets = new ConcurrentHashMap<>();
    final Map<Integer, String> statuses = new ConcurrentHashMap<>();
    final Set<Integer> finished = ConcurrentHashMap.newKeySet();
    final Map<Integer, Long> bodyBytes = new ConcurrentHashMap<>();

    // ---- what this side did ---------------------------------------------------------------
    final AtomicLong framesOut = new AtomicLong();
    final AtomicLong bytesOut = new AtomicLong();
    /** Time the last frame was handed to the socket: a write blocked for long means the server stopped reading. */
    volatile long lastWriteNanos = System.nanoTime();
    /** When true, every DATA received is given back at once with WINDOW_UPDATEs, as a reading client does. */
    volatile boolean returnWindow = true;
    /** Set once the attack client asks no more: it then closes the socket itself, which is not the server's doing. */
    private volatile boolean closing;

    private H2Wire(Target target, Socket socket) throws IOException {
        this.target = target;
        this.socket = socket;
        this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    }

    /**
     * Connects, sends the preface and these SETTINGS, and starts reading unless told not to (a
     * flood that must not read the server's answers calls {@link #startReading} later).
     * {@code receiveBuffer} > 0 shrinks this side's TCP receive buffer, so that answers not
     * read pile up at the server soon.
     */
    static H2Wire open(Target target, Map<Integer, Long> settings, int receiveBuffer, boolean read) throws IOException {
        Socket plain = new Socket();
        if (receiveBuffer > 0) {
            plain.setReceiveBufferSize(receiveBuffer);
        }
        plain.connect(new InetSocketAddress(target.host(), target.port()), 10_000);
        plain.setTcpNoDelay(true);
        Socket socket = plain;
        if (target.tls() != null) {
            SSLSocket tls = (SSLSocket) target.tls().getSocketFactory().createSocket(plain, target.host(), target.port(), true);
            SSLParameters p = tls.getSSLParameters();
            p.setApplicationProtocols(new String[]{"h2"});
            tls.setSSLParameters(p);
            tls.setSoTimeout(30_000);
            tls.startHandshake();
            if (!"h2".equals(tls.getApplicationProtocol())) {
                tls.close();
                throw new IOException(target + " did not choose h2 through ALPN but '" + tls.getApplicationProtocol() + "'");
            }
            socket = tls;
        }
        socket.setSoTimeout(0);
        H2Wire wire = new H2Wire(target, socket);
        wire.out.write(PREFACE);
        wire.settings(settings);
        wire.flush();
        if (read) {
            wire.startReading();
        }
        return wire;
    }

    static H2Wire open(Target target) throws IOException {
        return open(target, Map.of(), -1, true);
    }

    void startReading() {
        synchronized (readerLock) {
            if (reader == null) {
                reader = new Thread(this::readLoop, "h2wire-reader-" + target.port());
                reader.setDaemon(true);
                reader.start();
            }
        }
    }

    int newStream() {
        return nextStream.getAndAdd(2);
    }

    /** The connection ended from the server's side: a GOAWAY arrived, or it closed (not by {@link #close}). */
    boolean ended() {
        return goAwayCode != null || closed;
    }

    // ---- writing ----------------------------------------------------------------------------

    void frame(int type, int flags, int stream, byte[] payload) throws IOException {
        frame(type, flags, stream, payload, 0, payload.length);
    }

    void frame(int type, int flags, int stream, byte[] payload, int offset, int length) throws IOException {
        writeLock.lock();
        try {
            out.write(length >>> 16);
            out.write(length >>> 8);
            out.write(length);
            out.write(type);
            out.write(flags);
            out.write(stream >>> 24 & 0x7f);
            out.write(stream >>> 16);
            out.write(stream >>> 8);
            out.write(stream);
            out.write(payload, offset, length);
            framesOut.incrementAndGet();
            bytesOut.addAndGet(9 + length);
            lastWriteNanos = System.nanoTime();
        } finally {
            writeLock.unlock();
        }
    }

    void flush() throws IOException {
        writeLock.lock();
        try {
            out.flush();
            lastWriteNanos = System.nanoTime();
        } finally {
            writeLock.unlock();
        }
    }

    /** From the reader: a frame and a flush, unless a writer holds the socket (then the answer is skipped). */
    private void reply(int type, int flags, int stream, byte[] payload) throws IOException {
        if (writeLock.tryLock()) {
            try {
                frame(type, flags, stream, payload);
                flush();
            } finally {
                writeLock.unlock();
            }
        }
    }

    void settings(Map<Integer, Long> settings) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(6 * settings.size());
        settings.forEach((id, value) -> b.putShort((short) (int) id).putInt((int) (long) value));
        frame(SETTINGS, 0, 0, b.array());
    }

    void ping(long data, boolean ack) throws IOException {
        frame(PING, ack ? ACK : 0, 0, ByteBuffer.allocate(8).putLong(data).array());
    }

    void rst(int stream, Http2Error error) throws IOException {
        frame(RST_STREAM, 0, stream, ByteBuffer.allocate(4).putInt((int) error.code()).array());
    }

    void windowUpdate(int stream, int increment) throws IOException {
        frame(WINDOW_UPDATE, 0, stream, ByteBuffer.allocate(4).putInt(increment).array());
    }

    /** A request head, HPACK-encoded by Netty with this connection's dynamic table, in one HEADERS frame. */
    void headers(int stream, String method, String path, boolean endStream, String... extra) throws IOException {
        writeLock.lock();
        try {
            frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), stream, block(stream, method, path, extra));
        } finally {
            writeLock.unlock();
        }
    }

    /** The HPACK block of a request head; a caller that sends it must do so before encoding the next. */
    byte[] block(int stream, String method, String path, String... extra) {
        Http2Headers h = new DefaultHttp2Headers().method(method).scheme(target.scheme()).authority("weldr.test").path(path);
        for (int i = 0; i + 1 < extra.length; i += 2) {
            h.add(extra[i], extra[i + 1]);
        }
        ByteBuf buf = Unpooled.buffer();
        writeLock.lock();
        try {
            encoder.encodeHeaders(stream, h, buf);
        } catch (Http2Exception e) {
            throw new IllegalStateException(e);
        } finally {
            writeLock.unlock();
        }
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        return bytes;
    }

    /**
     * A well-behaved request: HEADERS with END_STREAM, then waits for the whole answer. Returns
     * the status, or throws naming what the server did instead.
     */
    String get(String path, Duration timeout) throws IOException {
        int stream = newStream();
        headers(stream, "GET", path, true);
        flush();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!finished.contains(stream)) {
            if (resets.containsKey(stream)) {
                throw new IOException("stream " + stream + " reset with " + errorName(resets.get(stream)));
            }
            if (ended()) {
                throw new IOException("the connection ended: " + serverDid());
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("no whole answer on stream " + stream + " within " + timeout + "; status " + statuses.get(stream));
            }
            pause();
        }
        return statuses.get(stream);
    }

    // ---- reading ----------------------------------------------------------------------------

    private void readLoop() {
        DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false, Long.MAX_VALUE >>> 2);
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        int blockStream = 0;
        boolean blockEnds = false;
        try {
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 * 1024));
            while (true) {
                int length = in.readUnsignedByte() << 16 | in.readUnsignedShort();
                int type = in.readUnsignedByte();
                int flags = in.readUnsignedByte();
                int stream = in.readInt() & 0x7fffffff;
                byte[] p = new byte[length];
                in.readFully(p);
                switch (type) {
                    case DATA -> {
                        int pad = (flags & PADDED) != 0 ? 1 + (p[0] & 0xff) : 0;
                        bodyBytes.merge(stream, (long) (length - pad), Long::sum);
                        if ((flags & END_STREAM) != 0) {
                            finished.add(stream);
                        }
                        if (returnWindow && length > 0) {
                            byte[] increment = ByteBuffer.allocate(4).putInt(length).array();
                            reply(WINDOW_UPDATE, 0, 0, increment);
                            if ((flags & END_STREAM) == 0) {
                                reply(WINDOW_UPDATE, 0, stream, increment);
                            }
                        }
                    }
                    case HEADERS, CONTINUATION -> {
                        int from = 0, to = length;
                        if (type == HEADERS) {
                            block.reset();
                            blockStream = stream;
                            blockEnds = (flags & END_STREAM) != 0;
                            if ((flags & PADDED) != 0) {
                                to -= p[0] & 0xff;
                                from = 1;
                            }
                            if ((flags & PRIORITY_FLAG) != 0) {
                                from += 5;
                            }
                        }
                        block.write(p, from, to - from);
                        if ((flags & END_HEADERS) != 0) {
                            Http2Headers h = decoder.decodeHeaders(blockStream, Unpooled.wrappedBuffer(block.toByteArray()));
                            CharSequence status = h.status();
                            if (status != null && status.charAt(0) != '1') {
                                statuses.put(blockStream, status.toString());
                            }
                            if (blockEnds) {
                                finished.add(blockStream);
                            }
                        }
                    }
                    case RST_STREAM -> resets.put(stream, ByteBuffer.wrap(p).getInt() & 0xffffffffL);
                    case SETTINGS -> {
                        if ((flags & ACK) == 0) {
                            Map<Integer, Long> s = new TreeMap<>();
                            ByteBuffer b = ByteBuffer.wrap(p);
                            while (b.remaining() >= 6) {
                                s.put(b.getShort() & 0xffff, b.getInt() & 0xffffffffL);
                            }
                            if (serverSettings == null) {
                                serverSettings = s;
                            }
                            reply(SETTINGS, ACK, 0, new byte[0]);
                        }
                    }
                    case PING -> {
                        if ((flags & ACK) == 0) {
                            reply(PING, ACK, 0, p);
                        }
                    }
                    case GOAWAY -> {
                        ByteBuffer b = ByteBuffer.wrap(p);
                        int last = b.getInt() & 0x7fffffff;
                        long code = b.getInt() & 0xffffffffL;
                        String debug = new String(p, 8, length - 8, StandardCharsets.UTF_8);
                        goAways.add(new GoAway(code, last, debug));
                        // The first GOAWAY naming an error is the verdict; a NO_ERROR one counts only when no other came.
                        if (goAwayCode == null || goAwayCode == 0 && code != 0) {
                            goAwayCode = code;
                        }
                    }
                    default -> {
                        // WINDOW_UPDATE, PRIORITY, PUSH_PROMISE: nothing an attack reports
                    }
                }
            }
        } catch (IOException | Http2Exception | RuntimeException e) {
            if (!closing) {
                closedBy = "the server (" + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")";
                closed = true;
            }
        }
    }

    // ---- reporting --------------------------------------------------------------------------

    static String errorName(Long code) {
        if (code == null) {
            return "none";
        }
        Http2Error e = Http2Error.valueOf(code);
        return (e == null ? "UNKNOWN" : e.name()) + "(0x" + Long.toHexString(code) + ")";
    }

    /** RST_STREAM codes received, by name, with their counts. */
    Map<String, Integer> resetCounts() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        new TreeMap<>(resets).values().forEach(c -> counts.merge(errorName(c), 1, Integer::sum));
        return counts;
    }

    Map<String, Integer> statusCounts() {
        Map<String, Integer> counts = new TreeMap<>();
        statuses.values().forEach(s -> counts.merge(s, 1, Integer::sum));
        return counts;
    }

    /** One line: every server reaction this connection saw. */
    String serverDid() {
        StringBuilder s = new StringBuilder();
        s.append(goAways.isEmpty() ? "no GOAWAY" : goAways.stream().map(GoAway::toString).collect(Collectors.joining(", then "))).append("; ");
        if (!resets.isEmpty()) {
            s.append("RST_STREAM ").append(resetCounts()).append("; ");
        }
        if (!statuses.isEmpty()) {
            s.append("responses ").append(statusCounts()).append("; ");
        }
        s.append(closed ? "closed by " + closedBy : "connection open");
        return s.toString();
    }

    @Override
    public void close() {
        closing = true;
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    static void pause() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
