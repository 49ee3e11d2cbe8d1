package dev.weldr.faults;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The test's side of {@link LabAgent}, which runs in the client host: admin calls into the lab and
 * the client's probes of the VIP, without a single packet from the root namespace.
 */
public final class Agent implements AutoCloseable {

    /** One admin call as the agent saw it; times are the agent's {@code System.nanoTime()}. */
    public record Reply(long call, long ret, String kind, int status, String leader, String body) {
        public boolean answered() {
            return kind.equals("resp");
        }

        /** No connection was made: the request was certainly not sent. */
        public boolean refused() {
            return kind.equals("refused");
        }

        @Override
        public String toString() {
            return answered() ? status + " " + body : kind + " " + body;
        }
    }

    /** One probe of the VIP by the client: wall-clock start and end (ms), HTTP status or -1. */
    public record Probe(long start, long end, int status, String kind) {
        public boolean ok() {
            return status == 200;
        }
    }

    private final Process process;
    private final OutputStream in;
    private final Map<Long, CompletableFuture<Reply>> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final List<Probe> probes = new ArrayList<>();
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile CountDownLatch stopped;

    Agent(Lab lab) {
        Path classes = Path.of("target", "test-classes").toAbsolutePath();
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss256k",
                "-cp", classes.toString(), LabAgent.class.getName());
        process = lab.spawn(lab.client, cmd, lab.dir.resolve("agent.log"), Map.of(), true);
        in = process.getOutputStream();
        Thread reader = new Thread(this::read, "agent-reader");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!ready.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the lab agent did not start; see " + lab.dir.resolve("agent.log"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void read() {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                String[] f = line.split(" ");
                switch (f[0]) {
                    case "READY" -> ready.countDown();
                    case "R" -> {
                        CompletableFuture<Reply> fut = pending.remove(Long.parseLong(f[1]));
                        if (fut != null) {
                            fut.complete(new Reply(Long.parseLong(f[2]), Long.parseLong(f[3]), f[4], Integer.parseInt(f[5]),
                                    f[6].equals("-") ? null : f[6], new String(Base64.getDecoder().decode(f.length > 7 ? f[7] : ""), StandardCharsets.UTF_8)));
                        }
                    }
                    case "Q" -> {
                        synchronized (probes) {
                            probes.add(new Probe(Long.parseLong(f[1]), Long.parseLong(f[2]), Integer.parseInt(f[3]), f[4]));
                        }
                    }
                    case "STOPPED" -> {
                        CountDownLatch s = stopped;
                        if (s != null) {
                            s.countDown();
                        }
                    }
                    default -> System.err.println("agent: " + line);
                }
            }
        } catch (IOException e) {
            // the agent is gone
        }
        pending.values().forEach(f -> f.completeExceptionally(new IllegalStateException("the lab agent exited")));
    }

    private synchronized void send(String line) {
        try {
            in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("the lab agent is gone", e);
        }
    }

    /** An HTTP call from the client host, with the admin token; completes when the agent has the answer. */
    public CompletableFuture<Reply> call(String method, String url, String body, int timeoutMs) {
        long id = ids.incrementAndGet();
        CompletableFuture<Reply> f = new CompletableFuture<>();
        pending.put(id, f);
        send("H " + id + " " + method + " " + url + " " + timeoutMs + " " + LabNode.TOKEN + " "
                + (body == null ? "-" : Base64.getEncoder().encodeToString(body.getBytes(StandardCharsets.UTF_8))));
        return f;
    }

    /** {@link #call} and wait for it. */
    public Reply http(String method, String url, String body, int timeoutMs) {
        try {
            return call(method, url, body, timeoutMs).get(timeoutMs + 30_000L, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the lab agent did not answer", e);
        }
    }

    public Reply get(String url) {
        return http("GET", url, null, 3000);
    }

    public void startProbes(String url, int intervalMs, int timeoutMs) {
        send("P " + url + " " + intervalMs + " " + timeoutMs);
    }

    public void stopProbes() {
        stopped = new CountDownLatch(1);
        send("S");
        try {
            stopped.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The probes that ended in [from, to] (wall clock, ms). */
    public List<Probe> probes(long from, long to) {
        synchronized (probes) {
            return probes.stream().filter(p -> p.end() >= from && p.end() <= to).toList();
        }
    }

    /** Forgets the probes that ended before {@code before}. */
    public void forgetProbes(long before) {
        synchronized (probes) {
            probes.removeIf(p -> p.end() < before);
        }
    }

    @Override
    public void close() {
        try {
            send("X");
        } catch (RuntimeException ignored) {
            // already gone
        }
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
