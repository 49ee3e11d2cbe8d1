package dev.weldr.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weldr.faults.SetHistory.Result;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Pool changes through the admin API of random nodes, from the client host, by a few concurrent
 * clients: adds of servers never used before in this history, removes of servers it added (each
 * at most once), and linearizable reads ({@code GET /servers?consistent=true}). Every call is
 * logged with its invocation and return and classified:
 * <ul>
 *   <li>ok: 201/409 for an add, 204/404 for a remove, 200 for a read;</li>
 *   <li>failed (definitely not applied, left out of the history): no connection could be made, or
 *       503 saying there is no leader;</li>
 *   <li>unknown (possibly applied): a timeout, a connection lost after the request was sent, a
 *       503 whose message says the change "may or may not have been applied", any other 5xx.</li>
 * </ul>
 */
public final class Writer {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final int CALL_TIMEOUT_MS = 10_000;

    /** Counts per kind of outcome. */
    public record Counts(int ok, int failed, int unknown, int reads, int odd) {
        @Override
        public String toString() {
            return (ok + failed + unknown + reads) + " calls: " + ok + " changes ok, " + failed + " failed, " + unknown
                    + " unknown, " + reads + " reads" + (odd > 0 ? ", " + odd + " unexpected answers" : "");
        }
    }

    private final Agent agent;
    private final SetHistory history;
    private final Supplier<List<LabNode>> targets;
    private final List<String> universe;
    private final Random random;
    private final int clients;
    private final int pauseMs;
    private final List<Thread> threads = new ArrayList<>();
    private final List<String> fresh;
    private final Set<String> removable = new HashSet<>();
    private final AtomicInteger ok = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicInteger unknown = new AtomicInteger();
    private final AtomicInteger reads = new AtomicInteger();
    private final AtomicInteger odd = new AtomicInteger();
    private final List<String> oddAnswers = new ArrayList<>();
    private volatile boolean running;

    /** {@code universe}: server ids ({@code ip:port}) that this history may add, each at most once. */
    Writer(Agent agent, SetHistory history, Supplier<List<LabNode>> targets, List<String> universe, long seed,
           int clients, int pauseMs) {
        this.agent = agent;
        this.history = history;
        this.targets = targets;
        this.universe = universe;
        this.random = new Random(seed);
        this.clients = clients;
        this.pauseMs = pauseMs;
        this.fresh = new ArrayList<>(universe);
    }

    public void start() {
        running = true;
        for (int i = 0; i < clients; i++) {
            String name = "w" + (i + 1);
            Thread t = new Thread(() -> loop(name), "writer-" + name);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /** Lets every client finish its call in progress, then returns. */
    public void stop() {
        running = false;
        for (Thread t : threads) {
            try {
                t.join(CALL_TIMEOUT_MS + 35_000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    public Counts counts() {
        return new Counts(ok.get(), failed.get(), unknown.get(), reads.get(), odd.get());
    }

    public synchronized List<String> oddAnswers() {
        return List.copyOf(oddAnswers);
    }

    private void loop(String name) {
        while (running) {
            List<LabNode> nodes = targets.get();
            LabNode via;
            String op;
            String element = null;
            synchronized (this) {
                via = nodes.get(random.nextInt(nodes.size()));
                double r = random.nextDouble();
                if (r < 0.2) {
                    op = "read";
                } else if (!fresh.isEmpty() && (removable.size() < 6 || r < 0.6 && removable.size() < 16)) {
                    op = "add";
                    element = fresh.remove(random.nextInt(fresh.size()));
                } else if (!removable.isEmpty()) {
                    op = "remove";
                    List<String> candidates = new ArrayList<>(removable);
                    element = candidates.get(random.nextInt(candidates.size()));
                    removable.remove(element);
                } else {
                    op = "read";
                }
            }
            switch (op) {
                case "add" -> add(name, via, element);
                case "remove" -> remove(name, via, element);
                default -> read(name, via);
            }
            pause();
        }
    }

    private void add(String name, LabNode via, String element) {
        Agent.Reply r = agent.http("POST", via.admin() + "/servers", "{\"url\":\"http://" + element + "\"}", CALL_TIMEOUT_MS);
        Result result = classify(r, 201, 409, "POST /servers " + element + " via " + via);
        if (result == null) {
            history.failed(name + "@" + via, "add", element, r.call(), r.ret(), r.toString());
        } else {
            history.add(name + "@" + via, element, result, r.call(), result == Result.UNKNOWN ? SetHistory.PENDING : r.ret());
            synchronized (this) {
                removable.add(element);
            }
        }
    }

    private void remove(String name, LabNode via, String element) {
        Agent.Reply r = agent.http("DELETE", via.admin() + "/servers/" + element.replace(':', '/'), null, CALL_TIMEOUT_MS);
        Result result = classify(r, 204, 404, "DELETE /servers/" + element + " via " + via);
        if (result != null) {
            history.remove(name + "@" + via, element, result, r.call(), result == Result.UNKNOWN ? SetHistory.PENDING : r.ret());
        } else {
            history.failed(name + "@" + via, "remove", element, r.call(), r.ret(), r.toString());
            synchronized (this) {
                removable.add(element); // definitely not applied: it may be tried again
            }
        }
    }

    private void read(String name, LabNode via) {
        Agent.Reply r = agent.http("GET", via.admin() + "/servers?consistent=true", null, CALL_TIMEOUT_MS);
        if (r.answered() && r.status() == 200) {
            history.read(name + "@" + via, ids(r.body()), r.call(), r.ret());
            reads.incrementAndGet();
        } else if (r.answered() && r.status() != 503) {
            noteOdd("GET /servers?consistent=true via " + via + ": " + r);
        }
    }

    /** OK / NOOP / UNKNOWN for the history, or null when the call definitely did not take effect. */
    private Result classify(Agent.Reply r, int applied, int noop, String what) {
        if (r.refused()) {
            failed.incrementAndGet();
            return null;
        }
        if (!r.answered()) {
            unknown.incrementAndGet();
            return Result.UNKNOWN;
        }
        if (r.status() == applied || r.status() == noop) {
            ok.incrementAndGet();
            return r.status() == applied ? Result.OK : Result.NOOP;
        }
        if (r.status() == 503 && !r.body().contains("may or may not")) {
            failed.incrementAndGet();
            return null;
        }
        if (r.status() >= 500) {
            if (r.status() != 503) {
                noteOdd(what + ": " + r);
            }
            unknown.incrementAndGet();
            return Result.UNKNOWN;
        }
        // A 4xx to a well-formed call is weldr's fault or the lab's; it changed nothing.
        noteOdd(what + ": " + r);
        failed.incrementAndGet();
        return null;
    }

    private synchronized void noteOdd(String what) {
        odd.incrementAndGet();
        if (oddAnswers.size() < 20) {
            oddAnswers.add(what);
        }
    }

    /** The server ids of a {@code GET /servers} answer. */
    static Set<String> ids(String body) {
        try {
            Set<String> ids = new TreeSet<>();
            for (JsonNode s : JSON.readTree(body).path("servers")) {
                ids.add(s.path("id").asText());
            }
            return ids;
        } catch (Exception e) {
            throw new IllegalStateException("not a server list: " + body, e);
        }
    }

    private void pause() {
        try {
            Thread.sleep(pauseMs / 2 + random.nextInt(pauseMs));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
