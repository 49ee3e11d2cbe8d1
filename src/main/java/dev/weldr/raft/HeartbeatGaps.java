package dev.weldr.raft;

import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesRequest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * How long a follower goes between two requests of its leader (heartbeats, sent every tenth of
 * the election timeout, or entries), measured where this node handles them, so a stall of either
 * host or of the network between them counts. A follower stands for election after a whole
 * timeout of such silence; when one lasts more than half of it, the timeout leaves this host
 * little room, and the node says so: {@code weldr_raft_heartbeat_late_total} counts each such
 * gap, {@code weldr_raft_heartbeat_gap_seconds} (a timer: its max is the longest gap of the last
 * minutes) has them all, and one WARN line naming {@code weldr.raft.election-timeout}, at most
 * every ten minutes, says how long the longest gap since the last line was. The start-up check
 * ({@code ConfigCheck}) warns of a timeout short in itself; this measures the host it runs on.
 */
final class HeartbeatGaps {

    private static final Logger LOG = Logger.getLogger(HeartbeatGaps.class);
    static final long LOG_EVERY_NANOS = TimeUnit.MINUTES.toNanos(10);

    private final long lateNanos;
    private final Duration timeout;
    private final Supplier<List<PeerId>> members;
    private final LongSupplier clock;
    private final Counter late;
    private final Timer gaps;

    private String leader;
    private long term = -1;
    private long lastNanos;
    private long lastLine;
    private long worstSinceLine;
    private long lateSinceLine;

    HeartbeatGaps(Duration electionTimeout, Supplier<List<PeerId>> members, MeterRegistry registry, LongSupplier clock) {
        this.timeout = electionTimeout;
        this.lateNanos = electionTimeout.toNanos() / 2;
        this.members = members;
        this.clock = clock;
        this.late = Counter.builder("weldr.raft.heartbeat.late")
                .description("Gaps of more than half the election timeout between two requests of the leader to this follower")
                .register(registry);
        this.gaps = Timer.builder("weldr.raft.heartbeat.gap")
                .description("Time between two requests of the leader to this follower")
                .register(registry);
        this.lastLine = clock.getAsLong() - LOG_EVERY_NANOS;
    }

    /** One request of {@code serverId} in {@code term} arrived now. */
    synchronized void arrived(String serverId, long term) {
        long now = clock.getAsLong();
        if (term != this.term || !serverId.equals(leader)) {
            // A new leader, or a new term: no gap to measure yet (the election's own is not a stall).
            if (!SenderExecutors.named(members.get(), serverId)) {
                return;
            }
            leader = serverId;
            this.term = term;
            lastNanos = now;
            return;
        }
        long gap = now - lastNanos;
        lastNanos = now;
        gaps.record(gap, TimeUnit.NANOSECONDS);
        if (gap <= lateNanos) {
            return;
        }
        late.increment();
        lateSinceLine++;
        worstSinceLine = Math.max(worstSinceLine, gap);
        if (now - lastLine >= LOG_EVERY_NANOS) {
            long worstMs = TimeUnit.NANOSECONDS.toMillis(worstSinceLine);
            LOG.warnf("the Raft leader %s was silent for %d ms (it sends a heartbeat every %d ms; %d such gap%s over half of "
                            + "weldr.raft.election-timeout=%dms since the last such line): this host or its network stalls; "
                            + "a stall of a whole timeout starts an election without a failure, so consider a longer "
                            + "weldr.raft.election-timeout (at least %dms, twice this gap) here",
                    IdentityCheck.printable(serverId), worstMs, timeout.toMillis() / 10,
                    lateSinceLine, lateSinceLine == 1 ? "" : "s", timeout.toMillis(), (2 * worstMs + 99) / 100 * 100);
            lastLine = now;
            worstSinceLine = 0;
            lateSinceLine = 0;
        }
    }

    /** {@code processor}, measuring the gaps between the requests it handles. */
    RpcProcessor<AppendEntriesRequest> watch(RpcProcessor<AppendEntriesRequest> processor) {
        return new DelegatingProcessor<>(processor) {
            @Override
            public void handleRequest(RpcContext ctx, AppendEntriesRequest request) {
                arrived(request.getServerId(), request.getTerm());
                delegate.handleRequest(ctx, request);
            }
        };
    }
}
