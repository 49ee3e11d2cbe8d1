package dev.weldr.it;

import dev.weldr.tls.TlsClient;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * HTTPS clients against one node and one server name, counting every request that did not get
 * the backend's answer: some threads keep a connection alive for many requests, others open a
 * new connection (a full handshake, from a context of their own) for each request. Each request
 * reads the whole answer (by its Content-Length) before the next is sent.
 */
final class HttpsLoad implements AutoCloseable {

    private static final int REQUESTS_PER_KEPT_CONNECTION = 200;

    private final int port;
    private final String serverName;
    private final String expectedBody;
    private final Supplier<SSLContext> contexts;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;
    final AtomicLong ok = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final List<String> failures = new CopyOnWriteArrayList<>();
    /** Fingerprints of the leaves served on the full handshakes of the new-connection threads. */
    final Set<String> fingerprints = ConcurrentHashMap.newKeySet();

    HttpsLoad(int port, String serverName, String expectedBody, Supplier<SSLContext> contexts) {
        this.port = port;
        this.serverName = serverName;
        this.expectedBody = expectedBody;
        this.contexts = contexts;
    }

    HttpsLoad start(int keptAlive, int fresh) {
        for (int i = 0; i < keptAlive; i++) {
            threads.add(new Thread(this::keepAlive, "load-kept-" + i));
        }
        for (int i = 0; i < fresh; i++) {
            threads.add(new Thread(this::newConnections, "load-new-" + i));
        }
        threads.forEach(Thread::start);
        return this;
    }

    private void keepAlive() {
        SSLContext context = contexts.get();
        while (running) {
            try (SSLSocket s = TlsClient.connect(context, port, serverName, true)) {
                for (int i = 0; i < REQUESTS_PER_KEPT_CONNECTION && running; i++) {
                    exchange(s, i);
                }
            } catch (IOException | RuntimeException e) {
                fail(e.toString());
            }
        }
    }

    private void newConnections() {
        while (running) {
            try (SSLSocket s = TlsClient.connect(contexts.get(), port, serverName, true)) {
                fingerprints.add(AcmeFixture.fingerprint((X509Certificate) s.getSession().getPeerCertificates()[0]));
                exchange(s, 0);
            } catch (IOException | RuntimeException e) {
                fail(e.toString());
            }
        }
    }

    private void exchange(SSLSocket s, int n) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(("GET /load/" + n + " HTTP/1.1\r\nHost: " + serverName + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        String head = readHead(in);
        int length = -1;
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring("content-length:".length()).trim());
            }
        }
        if (length < 0) {
            throw new IOException("no content-length in " + head);
        }
        byte[] body = in.readNBytes(length);
        String status = head.substring(0, head.indexOf("\r\n"));
        String text = new String(body, StandardCharsets.UTF_8);
        if (!status.startsWith("HTTP/1.1 200 ") || !text.equals(expectedBody)) {
            throw new IOException("unexpected answer: " + status + ": " + text);
        }
        ok.incrementAndGet();
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed after " + head.size() + " bytes of the answer");
            }
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3)) ? matched + 1 : 0;
            if (head.size() > 16 * 1024) {
                throw new IOException("answer head over 16 KiB");
            }
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private void fail(String why) {
        if (!running) {
            return;
        }
        failed.incrementAndGet();
        if (failures.size() < 20) {
            failures.add(why);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(30_000);
        }
    }
}
