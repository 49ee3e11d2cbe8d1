package dev.weldr.proxy;

import org.jboss.logging.Logger;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The access log ({@code weldr.proxy.access-log}, off by default): one line per request in nginx's
 * {@code combined} format, followed by the request time in seconds and the server that answered,
 * so that the tools that read nginx's logs read weldr's:
 * <pre>
 * 10.0.0.7 - - [24/Nov/2026:21:30:00 +0000] "GET /cart?id=7 HTTP/1.1" 200 13 "-" "curl/8.5.0" 0.001 10.0.0.21:8080
 * </pre>
 * An event loop never writes: it formats its line and hands it to a bounded queue, which one
 * thread drains to standard output or a file (opened to append, so {@code logrotate}'s
 * {@code copytruncate} works). When the destination cannot keep up and the queue is full, lines
 * are dropped and counted, and the count is logged: the proxy never waits for its log.
 */
public final class AccessLog implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(AccessLog.class);
    static final String OFF = "off";
    static final String STDOUT = "stdout";
    private static final int QUEUE = 65_536;
    /** How long the writer rests when nothing is queued: lines reach their destination within it. */
    private static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(ZoneId.systemDefault());

    private final OutputStream out;
    private final String destination;
    private final BlockingQueue<String> lines = new ArrayBlockingQueue<>(QUEUE);
    private final AtomicLong dropped = new AtomicLong();
    private final Thread writer;
    private volatile boolean closing;

    private AccessLog(OutputStream out, String destination) {
        this.out = out;
        this.destination = destination;
        this.writer = new Thread(this::drain, "weldr-access-log");
        writer.setDaemon(true);
        writer.start();
    }

    /** The log {@code setting} asks for: null for {@code off}, standard output, or a file appended to. */
    static AccessLog open(String setting) throws IOException {
        String s = setting.trim();
        if (s.isEmpty() || s.equals(OFF)) {
            return null;
        }
        if (s.equals(STDOUT)) {
            return new AccessLog(System.out, STDOUT);
        }
        return new AccessLog(new FileOutputStream(s, true), s);
    }

    /** Why {@code setting} cannot be the access log's destination, or null when it can. */
    public static String problem(String setting) {
        String s = setting.trim();
        if (s.isEmpty() || s.equals(OFF) || s.equals(STDOUT)) {
            return null;
        }
        Path file = Path.of(s).toAbsolutePath();
        if (Files.isDirectory(file)) {
            return "must be off, stdout or a file, and " + s + " is a directory";
        }
        if (Files.exists(file)) {
            return Files.isWritable(file) ? null : "cannot write to " + s;
        }
        Path dir = file.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            return "cannot create " + s + ": no directory " + dir;
        }
        return Files.isWritable(dir) ? null : "cannot create " + s + ": the directory " + dir + " is not writable";
    }

    /** The time of the last line, formatted once per second (the loops race on it harmlessly: it is immutable). */
    private record Second(long epochSecond, String text) {
    }

    private volatile Second second = new Second(-1, "");

    private String time(long epochMillis) {
        long now = Math.floorDiv(epochMillis, 1000);
        Second s = second;
        if (s.epochSecond() != now) {
            s = new Second(now, TIME.format(Instant.ofEpochSecond(now)));
            second = s;
        }
        return s.text();
    }

    /** One request, as the loop that served it saw it (never blocks). */
    void log(String client, Request request, int status, long bodyBytes, long startNanos, Backend backend) {
        String line = line(client, request.requestLine(), status, bodyBytes, request.get("referer"), request.get("user-agent"),
                System.nanoTime() - startNanos, backend == null ? null : backend.id(), time(System.currentTimeMillis()));
        if (!lines.offer(line)) {
            dropped.incrementAndGet();
        }
    }

    static String line(String client, String requestLine, int status, long bodyBytes, String referer, String userAgent,
                       long nanos, String upstream, String time) {
        StringBuilder sb = new StringBuilder(192);
        sb.append(client).append(" - - [").append(time).append("] \"");
        escape(sb, requestLine);
        sb.append("\" ").append(status).append(' ').append(bodyBytes).append(" \"");
        escape(sb, referer == null ? "-" : referer);
        sb.append("\" \"");
        escape(sb, userAgent == null ? "-" : userAgent);
        // Seconds with milliseconds, as nginx's $request_time.
        long millis = nanos / 1_000_000;
        long fraction = millis % 1000;
        sb.append("\" ").append(millis / 1000).append('.').append(fraction < 100 ? (fraction < 10 ? "00" : "0") : "").append(fraction)
                .append(' ').append(upstream == null ? "-" : upstream).append('\n');
        return sb.toString();
    }

    static String time(Instant at) {
        return TIME.format(at);
    }

    /** As nginx escapes: a quote, a backslash, and any byte outside printable ASCII as {@code \xHH}. */
    static void escape(StringBuilder sb, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
                sb.append("\\x").append(Character.forDigit((c >> 4) & 0xf, 16)).append(Character.forDigit(c & 0xf, 16));
            } else {
                sb.append(c);
            }
        }
    }

    private void drain() {
        List<String> batch = new ArrayList<>(1024);
        long reported = 0;
        long reportedAt = 0;
        while (true) {
            // Polled, never waited on: a writer parked on the queue would be woken (a system call)
            // by every line an event loop offers.
            String first = lines.poll();
            if (first == null) {
                if (closing) {
                    return;
                }
                LockSupport.parkNanos(PAUSE_NANOS);
                if (Thread.interrupted()) {
                    return;
                }
            } else {
                batch.add(first);
                lines.drainTo(batch, 4095);
                int length = 0;
                for (String line : batch) {
                    // Lines are ASCII (escaped): one byte per char, copied once into the buffer.
                    if (length + line.length() > buffer.length) {
                        write(buffer, length);
                        length = 0;
                    }
                    if (line.length() > buffer.length) {
                        buffer = new byte[line.length()];
                    }
                    line.getBytes(0, line.length(), buffer, length);
                    length += line.length();
                }
                write(buffer, length);
                if (failed > 0) {
                    dropped.addAndGet(batch.size());
                    failed = 0;
                }
                batch.clear();
            }
            long lost = dropped.get();
            long now = System.nanoTime();
            if (lost != reported && now - reportedAt > TimeUnit.SECONDS.toNanos(10)) {
                LOG.warnf("access log: %d lines dropped in all: %s does not take them as fast as requests come",
                        lost, destination);
                reported = lost;
                reportedAt = now;
            }
        }
    }

    private byte[] buffer = new byte[64 * 1024];
    private boolean failing;
    /** Writes of the current batch that failed (its lines are counted as dropped). */
    private int failed;

    @SuppressWarnings("deprecation") // String.getBytes(int, int, byte[], int): the lines are ASCII
    private void write(byte[] bytes, int length) {
        if (length == 0) {
            return;
        }
        try {
            if (out instanceof PrintStream print) {
                // Standard output: one write under the stream's lock, never inside another's line.
                synchronized (print) {
                    print.write(bytes, 0, length);
                    print.flush();
                }
            } else {
                out.write(bytes, 0, length);
                out.flush();
            }
            if (failing) {
                failing = false;
                LOG.infof("access log: writing to %s again", destination);
            }
        } catch (IOException e) {
            failed++;
            if (!failing) {
                failing = true;
                LOG.warnf("access log: cannot write to %s (%s); its lines are dropped until it can", destination, e.getMessage());
            }
        }
    }

    /** Writes what is queued, then stops. */
    @Override
    public void close() {
        closing = true;
        try {
            writer.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (out != System.out) {
            try {
                out.close();
            } catch (IOException ignored) {
                // Closing: nothing more to write.
            }
        }
    }
}
