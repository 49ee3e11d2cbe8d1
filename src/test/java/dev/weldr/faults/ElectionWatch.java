package dev.weldr.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The spurious-election check: with nothing failing, a healthy cluster must keep its leader. Watches
 * the lab for a while idle (the client's probes only), then as long again under {@code wrk} load
 * through the VIP from the client host, and counts the term changes (every election, won or not,
 * raises the term) and the pre-votes the nodes started (an election timer that found no leader,
 * even when the pre-vote then failed). Beside them, how loaded the machine was (the load average)
 * and how late a thread of this JVM that sleeps 5 ms at a time woke up (the scheduling delay that a
 * heartbeat timer meets on this machine).
 */
final class ElectionWatch {

    record Phase(String name, long seconds, long termBefore, long termAfter, int preVotes, long maxLateMs, long p999LateMs,
                 String load, String traffic) {
        @Override
        public String toString() {
            return String.format("%s %d s: term %d -> %d (%d elections), %d pre-votes started; a 5 ms sleep woke up to %d ms late "
                            + "(99.9th percentile %d ms); load average %s%s", name, seconds, termBefore, termAfter, termAfter - termBefore,
                    preVotes, maxLateMs, p999LateMs, load, traffic);
        }
    }

    private ElectionWatch() {
    }

    static List<Phase> run(WeldrLab w, long idleSeconds, long loadSeconds) {
        List<Phase> phases = new ArrayList<>();
        w.lab.heal();
        w.startDead();
        w.awaitWhole(Duration.ofSeconds(120));
        phases.add(phase(w, "idle", idleSeconds, null));
        System.out.println("[faults] " + phases.get(0));
        if (loadSeconds > 0) {
            List<String> wrk = List.of("wrk", "-t2", "-c50", "-d" + loadSeconds + "s", "http://" + Lab.VIP + ":" + LabNode.PROXY + "/");
            phases.add(phase(w, "under wrk load (2 threads, 50 connections, through the VIP)", loadSeconds, wrk));
            System.out.println("[faults] " + phases.get(1));
        }
        return phases;
    }

    private static Phase phase(WeldrLab w, String name, long seconds, List<String> load) {
        long term = term(w);
        long from = System.currentTimeMillis();
        Hiccups hiccups = new Hiccups();
        Process wrk = load == null ? null : w.lab.spawn(w.lab.client, load, w.lab.dir.resolve("wrk.log"));
        String loadBefore = loadAverage();
        long end = from + seconds * 1000;
        while (System.currentTimeMillis() < end) {
            WeldrLab.sleep(Math.min(60_000, Math.max(1, end - System.currentTimeMillis())));
            System.out.printf("[faults]   %s: %.0f s, term %d, load average %s%n", name, (System.currentTimeMillis() - from) / 1000.0,
                    term(w), loadAverage());
        }
        String traffic = "";
        if (wrk != null) {
            traffic = "; " + wrkResult(wrk, w.lab.dir.resolve("wrk.log"));
        }
        hiccups.stop();
        int preVotes = 0;
        for (LabNode n : w.nodes) {
            preVotes += Failover.count(n.log(), from, " start preVote.");
        }
        return new Phase(name, seconds, term, term(w), preVotes, hiccups.max(), hiccups.percentile(99.9),
                loadBefore + " at the start, " + loadAverage() + " at the end", traffic);
    }

    /**
     * What wrk sent ("1234567 requests, 20576.3 requests/s, 0 errors"): a watch "under load" that
     * carried none (wrk missing, the VIP not answering) must fail rather than pass as an idle one.
     */
    private static String wrkResult(Process wrk, Path log) {
        try {
            if (!wrk.waitFor(60, TimeUnit.SECONDS)) {
                wrk.destroyForcibly();
                throw new AssertionError("wrk did not end 60 s after its duration");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for wrk");
        }
        String out;
        try {
            out = Files.readString(log);
        } catch (IOException e) {
            throw new AssertionError("wrk's output " + log + ": " + e);
        }
        Matcher total = Pattern.compile("(\\d+) requests in").matcher(out);
        Matcher rate = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(out);
        if (wrk.exitValue() != 0 || !total.find() || !rate.find() || Long.parseLong(total.group(1)) == 0) {
            throw new AssertionError("wrk carried no load through the VIP (exit " + wrk.exitValue() + "): " + out.strip());
        }
        Matcher errors = Pattern.compile("Non-2xx or 3xx responses: \\d+|Socket errors: .*").matcher(out);
        List<String> problems = new ArrayList<>();
        while (errors.find()) {
            problems.add(errors.group().strip());
        }
        return String.format("wrk: %s requests, %s requests/s%s", total.group(1), rate.group(1),
                problems.isEmpty() ? ", no errors" : ", " + String.join(", ", problems));
    }

    /** The highest term any running member reports. */
    private static long term(WeldrLab w) {
        return w.views().values().stream().mapToLong(WeldrLab.View::term).max().orElse(-1);
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " / " + f[1] + " / " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    /** How late a thread that sleeps 5 ms wakes up, every time. */
    private static final class Hiccups {
        private final List<Long> late = new ArrayList<>();
        private volatile boolean running = true;
        private final Thread thread = new Thread(this::loop, "hiccups");

        Hiccups() {
            thread.setDaemon(true);
            thread.start();
        }

        private void loop() {
            while (running) {
                long t = System.nanoTime();
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
                long ms = (System.nanoTime() - t) / 1_000_000 - 5;
                synchronized (late) {
                    late.add(Math.max(0, ms));
                }
            }
        }

        void stop() {
            running = false;
            try {
                thread.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        long max() {
            synchronized (late) {
                return late.stream().mapToLong(Long::longValue).max().orElse(0);
            }
        }

        long percentile(double p) {
            synchronized (late) {
                if (late.isEmpty()) {
                    return 0;
                }
                List<Long> sorted = late.stream().sorted().toList();
                return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100 * sorted.size()) - 1));
            }
        }
    }
}
