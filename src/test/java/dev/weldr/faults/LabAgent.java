package dev.weldr.faults;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Everything the test does on the lab's network, from inside the client host's namespace: the test
 * (in the root namespace, where lab addresses must never be used) drives it over stdin and stdout.
 * JDK only, one fresh TCP connection per request, no retries of any kind, so that each call the
 * writer logs was sent exactly once.
 *
 * <pre>
 * in:  H &lt;id&gt; &lt;method&gt; &lt;url&gt; &lt;timeout ms&gt; &lt;token|-&gt; &lt;body base64|-&gt;   one admin call
 *      P &lt;url&gt; &lt;interval ms&gt; &lt;timeout ms&gt;                            start the client's probes
 *      S                                                               stop them
 * out: R &lt;id&gt; &lt;call ns&gt; &lt;return ns&gt; &lt;kind&gt; &lt;status&gt; &lt;X-Weldr-Leader|-&gt; &lt;body base64&gt;
 *      Q &lt;start epoch ms&gt; &lt;end epoch ms&gt; &lt;status&gt; &lt;kind&gt;                  one probe
 * </pre>
 * {@code kind} is {@code resp} (an HTTP answer), {@code refused} (no connection was made: the
 * request was certainly not sent), {@code timeout} or {@code error} (sent, or maybe sent).
 */
public final class LabAgent {

    private static final PrintStream OUT = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
    private static final ExecutorService CALLS = Executors.newCachedThreadPool(daemon("call"));
    private static final ExecutorService PROBES = Executors.newCachedThreadPool(daemon("probe"));
    private static final ScheduledExecutorService TICK = Executors.newSingleThreadScheduledExecutor(daemon("tick"));
    private static ScheduledFuture<?> probing;

    private LabAgent() {
    }

    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        emit("READY");
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split(" ");
            switch (f[0]) {
                case "H" -> call(f);
                case "P" -> probe(f[1], Integer.parseInt(f[2]), Integer.parseInt(f[3]));
                case "S" -> {
                    if (probing != null) {
                        probing.cancel(false);
                        probing = null;
                    }
                    emit("STOPPED");
                }
                case "X" -> System.exit(0);
                default -> emit("ERR unknown command " + f[0]);
            }
        }
        System.exit(0);
    }

    private static void call(String[] f) {
        String id = f[1];
        String method = f[2];
        URI uri = URI.create(f[3]);
        int timeout = Integer.parseInt(f[4]);
        String token = f[5].equals("-") ? null : f[5];
        byte[] body = f[6].equals("-") ? null : Base64.getDecoder().decode(f[6]);
        CALLS.execute(() -> {
            Map<String, String> headers = new LinkedHashMap<>();
            if (token != null) {
                headers.put("Authorization", "Bearer " + token);
            }
            if (body != null) {
                headers.put("Content-Type", "application/json");
            }
            long call = System.nanoTime();
            Answer a = exchange(method, uri, headers, body, timeout);
            long ret = System.nanoTime();
            emit("R " + id + " " + call + " " + ret + " " + a.kind + " " + a.status + " "
                    + (a.leader == null ? "-" : a.leader) + " "
                    + Base64.getEncoder().encodeToString(a.body.getBytes(StandardCharsets.UTF_8)));
        });
    }

    private static void probe(String url, int intervalMs, int timeoutMs) {
        URI uri = URI.create(url);
        if (probing != null) {
            probing.cancel(false);
        }
        probing = TICK.scheduleAtFixedRate(() -> PROBES.execute(() -> {
            long start = System.currentTimeMillis();
            Answer a = exchange("GET", uri, Map.of(), null, timeoutMs);
            emit("Q " + start + " " + System.currentTimeMillis() + " " + a.status + " " + a.kind);
        }), 0, intervalMs, TimeUnit.MILLISECONDS);
    }

    record Answer(String kind, int status, String leader, String body) {
    }

    /** One HTTP/1.1 exchange on a fresh connection, closed afterwards; never more than {@code timeoutMs}. */
    static Answer exchange(String method, URI uri, Map<String, String> headers, byte[] body, int timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        int port = uri.getPort() < 0 ? 80 : uri.getPort();
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            try {
                s.connect(new InetSocketAddress(uri.getHost(), port), timeoutMs);
            } catch (ConnectException | NoRouteToHostException | SocketTimeoutException e) {
                return new Answer("refused", -1, null, e.toString());
            }
            StringBuilder req = new StringBuilder();
            String target = uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
            if (uri.getRawQuery() != null) {
                target += "?" + uri.getRawQuery();
            }
            req.append(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(uri.getHost()).append(':').append(port).append("\r\n")
                    .append("Connection: close\r\n");
            headers.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
            if (body != null || method.equals("POST") || method.equals("PUT")) {
                req.append("Content-Length: ").append(body == null ? 0 : body.length).append("\r\n");
            }
            req.append("\r\n");
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
            if (body != null) {
                out.write(body);
            }
            out.flush();
            InputStream in = new java.io.BufferedInputStream(s.getInputStream(), 16384);
            String status = readLine(s, in, deadline);
            if (status == null || !status.startsWith("HTTP/1.")) {
                return new Answer("error", -1, null, "bad status line: " + status);
            }
            int code = Integer.parseInt(status.split(" ")[1]);
            Map<String, String> h = new LinkedHashMap<>();
            String line;
            while ((line = readLine(s, in, deadline)) != null && !line.isEmpty()) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    h.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
                }
            }
            if (line == null) {
                return new Answer("error", -1, null, "connection closed in the headers");
            }
            byte[] content;
            if ("chunked".equalsIgnoreCase(h.get("transfer-encoding"))) {
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                while (true) {
                    String size = readLine(s, in, deadline);
                    if (size == null) {
                        return new Answer("error", -1, null, "connection closed in a chunked body");
                    }
                    int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                    if (n == 0) {
                        break;
                    }
                    all.write(readFully(s, in, n, deadline));
                    readLine(s, in, deadline);
                }
                content = all.toByteArray();
            } else if (h.containsKey("content-length")) {
                content = readFully(s, in, Integer.parseInt(h.get("content-length")), deadline);
            } else if (method.equals("HEAD") || code == 204 || code == 304) {
                content = new byte[0];
            } else {
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                byte[] buf = new byte[8192];
                int n;
                while ((n = read(s, in, buf, 0, buf.length, deadline)) > 0) {
                    all.write(buf, 0, n);
                }
                content = all.toByteArray();
            }
            return new Answer("resp", code, h.get("x-weldr-leader"), new String(content, StandardCharsets.UTF_8));
        } catch (SocketTimeoutException e) {
            return new Answer("timeout", -1, null, e.toString());
        } catch (IOException | RuntimeException e) {
            return new Answer("error", -1, null, e.toString());
        }
    }

    private static int read(Socket s, InputStream in, byte[] buf, int off, int len, long deadline) throws IOException {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
            throw new SocketTimeoutException("deadline reached");
        }
        s.setSoTimeout((int) Math.max(1, left));
        return in.read(buf, off, len);
    }

    private static byte[] readFully(Socket s, InputStream in, int n, long deadline) throws IOException {
        byte[] b = new byte[n];
        int got = 0;
        while (got < n) {
            int r = read(s, in, b, got, n - got, deadline);
            if (r < 0) {
                throw new IOException("connection closed after " + got + " of " + n + " bytes");
            }
            got += r;
        }
        return b;
    }

    private static String readLine(Socket s, InputStream in, long deadline) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] one = new byte[1];
        while (true) {
            int r = read(s, in, one, 0, 1, deadline);
            if (r < 0) {
                return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
            }
            if (one[0] == '\n') {
                String l = line.toString(StandardCharsets.ISO_8859_1);
                return l.endsWith("\r") ? l.substring(0, l.length() - 1) : l;
            }
            line.write(one[0]);
        }
    }

    private static synchronized void emit(String line) {
        OUT.println(line);
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
