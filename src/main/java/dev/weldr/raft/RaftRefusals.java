package dev.weldr.raft;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.jboss.logging.Logger;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the Raft port refused, counted ({@code weldr_raft_refused_total{reason}}) and logged: at
 * most one line per reason every ten seconds, naming the last peer and how many more were
 * refused since, so a peer retrying every few milliseconds cannot flood the log.
 */
public final class RaftRefusals {

    private static final Logger LOG = Logger.getLogger(RaftRefusals.class);
    static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    public enum Reason {
        /** No TLS, no certificate, or one the cluster's CA did not sign: the connection never carried a request. */
        HANDSHAKE,
        /** A request claiming a node id its connection's certificate does not name. */
        IDENTITY;

        final String label = name().toLowerCase(Locale.ROOT);
    }

    private final Map<Reason, Counter> counters = new EnumMap<>(Reason.class);
    private final Map<Reason, AtomicLong> lastLine = new EnumMap<>(Reason.class);
    private final Map<Reason, AtomicLong> unlogged = new EnumMap<>(Reason.class);

    public RaftRefusals(MeterRegistry registry) {
        for (Reason r : Reason.values()) {
            counters.put(r, Counter.builder("weldr.raft.refused").tag("reason", r.label)
                    .description("Connections (handshake) and requests (identity) the Raft port refused").register(registry));
            lastLine.put(r, new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS));
            unlogged.put(r, new AtomicLong());
        }
    }

    void refused(Reason reason, String remote, String why) {
        counters.get(reason).increment();
        long now = System.nanoTime();
        AtomicLong last = lastLine.get(reason);
        long seen = last.get();
        if (now - seen >= LOG_EVERY_NANOS && last.compareAndSet(seen, now)) {
            long more = unlogged.get(reason).getAndSet(0);
            LOG.warnf("Raft port refused %s (%s): %s%s", remote, reason.label, why,
                    more == 0 ? "" : "; " + more + " more refused since the last such line");
        } else {
            unlogged.get(reason).incrementAndGet();
        }
    }
}
