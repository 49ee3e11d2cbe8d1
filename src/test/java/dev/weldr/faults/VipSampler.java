package dev.weldr.faults;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Which hosts have the virtual IP, every few milliseconds: read from each host's
 * {@code /proc/PID/net/fib_trie} (no process started, no packet sent). A holder whose VIP manager
 * (weldr, or keepalived in the comparison) is running, and has finished starting, is a
 * <em>live</em> holder. A host that keeps the address after its manager was killed with SIGKILL,
 * until a new process of it has started, is a <em>stale</em> holder: nothing running there claims
 * the address, the kernel merely still has it (and would answer ARP for it).
 */
public final class VipSampler implements AutoCloseable {

    /** One sample: when, and bit masks of holders over {@code hosts} (bit i = hosts.get(i)). */
    public record Sample(long at, long holders, long live) {
    }

    /** What a window of samples says. */
    public record Summary(int samples, int twoLive, long longestTwoLiveMs, int twoAny, long longestStaleMs,
                          long longestNoneMs, String firstTwoLive) {
        @Override
        public String toString() {
            return samples + " samples, " + twoLive + " with two live holders (longest overlap " + longestTwoLiveMs + " ms)"
                    + (longestStaleMs > 0 ? "; left on a host whose VIP manager was killed (until it started again) for up to "
                    + longestStaleMs + " ms" : "")
                    + "; longest time without any holder " + longestNoneMs + " ms";
        }
    }

    private final List<Lab.Host> hosts;
    private final Predicate<Lab.Host> managerRunning;
    private final int periodMs;
    private final List<Sample> samples = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    VipSampler(List<Lab.Host> hosts, Predicate<Lab.Host> managerRunning, int periodMs) {
        this.hosts = List.copyOf(hosts);
        this.managerRunning = managerRunning;
        this.periodMs = periodMs;
        thread = new Thread(this::loop, "vip-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        while (running) {
            long at = System.currentTimeMillis();
            long holders = 0;
            long live = 0;
            for (int i = 0; i < hosts.size(); i++) {
                Lab.Host h = hosts.get(i);
                // The manager first: a manager that dies between the two reads is counted stale, never live by mistake.
                boolean running = managerRunning.test(h);
                if (h.holdsVip()) {
                    holders |= 1L << i;
                    if (running) {
                        live |= 1L << i;
                    }
                }
            }
            synchronized (samples) {
                samples.add(new Sample(at, holders, live));
            }
            long sleep = periodMs - (System.currentTimeMillis() - at);
            if (sleep > 0) {
                try {
                    Thread.sleep(sleep);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    public List<Sample> samples(long from, long to) {
        synchronized (samples) {
            return samples.stream().filter(s -> s.at >= from && s.at <= to).toList();
        }
    }

    /** The hosts holding the VIP in the newest sample. */
    public List<Lab.Host> holdersNow() {
        Sample s;
        synchronized (samples) {
            s = samples.isEmpty() ? null : samples.get(samples.size() - 1);
        }
        List<Lab.Host> out = new ArrayList<>();
        for (int i = 0; s != null && i < hosts.size(); i++) {
            if ((s.holders & (1L << i)) != 0) {
                out.add(hosts.get(i));
            }
        }
        return out;
    }

    public Summary summary(long from, long to) {
        List<Sample> w = samples(from, to);
        int twoLive = 0;
        int twoAny = 0;
        long longestTwoLive = 0;
        long longestStale = 0;
        long longestNone = 0;
        long twoLiveSince = -1;
        long staleSince = -1;
        long noneSince = -1;
        String first = null;
        long prevAt = from;
        for (Sample s : w) {
            boolean two = Long.bitCount(s.live) >= 2;
            if (two) {
                twoLive++;
                if (first == null) {
                    first = "at " + s.at + ": " + names(s.live);
                }
                twoLiveSince = twoLiveSince < 0 ? s.at : twoLiveSince;
                // An overlap lasts at least one sampling period: it was seen once and not just before.
                longestTwoLive = Math.max(longestTwoLive, s.at - twoLiveSince + periodMs);
            } else {
                twoLiveSince = -1;
            }
            if (Long.bitCount(s.holders) >= 2) {
                twoAny++;
            }
            if ((s.holders & ~s.live) != 0) {
                staleSince = staleSince < 0 ? s.at : staleSince;
                longestStale = Math.max(longestStale, s.at - staleSince + periodMs);
            } else {
                staleSince = -1;
            }
            if (s.live == 0) {
                noneSince = noneSince < 0 ? prevAt : noneSince;
                longestNone = Math.max(longestNone, s.at - noneSince);
            } else {
                noneSince = -1;
            }
            prevAt = s.at;
        }
        return new Summary(w.size(), twoLive, longestTwoLive, twoAny, longestStale, longestNone, first);
    }

    private String names(long mask) {
        List<String> n = new ArrayList<>();
        for (int i = 0; i < hosts.size(); i++) {
            if ((mask & (1L << i)) != 0) {
                n.add(hosts.get(i).name);
            }
        }
        return String.join("+", n);
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
