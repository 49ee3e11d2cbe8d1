package dev.weldr.raft;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Iterator;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.core.StateMachineAdapter;
import com.alipay.sofa.jraft.entity.LeaderChangeContext;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.error.RaftException;
import com.alipay.sofa.jraft.storage.snapshot.SnapshotReader;
import com.alipay.sofa.jraft.storage.snapshot.SnapshotWriter;
import dev.weldr.cluster.Leadership;
import dev.weldr.cluster.PoolHolder;
import dev.weldr.pool.AuditEntry;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.Topology;
import dev.weldr.pool.PoolCommand;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies committed pool commands, identically on every replica, and publishes the new pool
 * once per batch. The leader takes the command from its closure; other replicas decode the
 * entry. An entry that does not decode stops the state machine rather than letting replicas drift.
 */
final class PoolStateMachine extends StateMachineAdapter {

    private static final Logger LOG = Logger.getLogger(PoolStateMachine.class);

    private final PoolHolder holder;
    private final Leadership leadership;
    private final String self;
    private Topology pool = Topology.EMPTY;

    PoolStateMachine(PoolHolder holder, Leadership leadership, String self) {
        this.holder = holder;
        this.leadership = leadership;
        this.self = self;
    }

    @Override
    public void onApply(Iterator iter) {
        List<PoolClosure> done = new ArrayList<>();
        Topology next = pool;
        try {
            while (iter.hasNext()) {
                Closure closure = iter.done();
                PoolCommand command;
                AuditEntry audit;
                if (closure instanceof PoolClosure pc) {
                    command = pc.command;
                    audit = pc.audit;
                } else {
                    try {
                        CommandCodec.Entry entry = CommandCodec.decodeEntry(iter.getData());
                        command = entry.command();
                        audit = entry.audit();
                    } catch (CommandCodec.CorruptEntryException e) {
                        LOG.errorf("Raft entry %d cannot be decoded (%s); the state machine stops", iter.getIndex(), e.getMessage());
                        iter.setErrorAndRollback(1, new Status(RaftError.ESTATEMACHINE, "undecodable entry %d", iter.getIndex()));
                        return;
                    }
                }
                Outcome outcome = next.apply(iter.getIndex(), command, audit);
                next = outcome.topology();
                if (closure instanceof PoolClosure pc) {
                    if (audit != null && outcome.result() == Outcome.Result.APPLIED) {
                        logAudit(next.audit().get(next.audit().size() - 1));
                    }
                    pc.applied(outcome);
                    done.add(pc);
                }
                iter.next();
            }
        } finally {
            if (next != pool) {
                pool = next;
                holder.publish(next);
            }
            // Answer only once the pool the answer describes is visible to readers.
            for (PoolClosure pc : done) {
                pc.run(Status.OK());
            }
        }
    }

    /**
     * One line per audited change, written by the leader that proposed it as it commits: a
     * follower, or a node replaying its log at start-up, has no closure and writes none, so each
     * change is logged at most once (by none when its leader died or stepped down as it committed;
     * GET /audit still has it).
     */
    private static void logAudit(AuditEntry a) {
        LOG.infof("audit #%d %s %s by token %s via %s: %s", a.id(), a.action(), a.target(), a.token(), a.node(), a.summary());
    }

    @Override
    public void onSnapshotSave(SnapshotWriter writer, Closure done) {
        Topology snapshot = pool;
        try {
            SnapshotCodec.write(snapshot, Path.of(writer.getPath()));
            if (writer.addFile(SnapshotCodec.FILE)) {
                done.run(Status.OK());
            } else {
                done.run(new Status(RaftError.EIO, "could not add %s to the snapshot", SnapshotCodec.FILE));
            }
        } catch (IOException e) {
            done.run(new Status(RaftError.EIO, "could not write the snapshot: %s", e.getMessage()));
        }
    }

    @Override
    public boolean onSnapshotLoad(SnapshotReader reader) {
        if (reader.getFileMeta(SnapshotCodec.FILE) == null) {
            LOG.errorf("snapshot in %s has no %s", reader.getPath(), SnapshotCodec.FILE);
            return false;
        }
        try {
            pool = SnapshotCodec.read(Path.of(reader.getPath()));
        } catch (IOException e) {
            LOG.errorf("snapshot in %s cannot be read: %s", reader.getPath(), e.getMessage());
            return false;
        }
        holder.publish(pool);
        LOG.infof("pool restored from snapshot at index %d: %d servers", pool.appliedIndex(),
                pool.pools().stream().mapToInt(dev.weldr.pool.Pool::size).sum());
        return true;
    }

    @Override
    public void onLeaderStart(long term) {
        // Logged first: the listeners take the VIP on a thread of their own, and its line must not come before this one.
        LOG.infof("this node (%s) is leader for term %d", self, term);
        leadership.becameLeader(self, term);
    }

    @Override
    public void onLeaderStop(Status status) {
        leadership.leaderless();
        LOG.infof("this node (%s) stopped being leader: %s", self, status.getErrorMsg());
    }

    @Override
    public void onStartFollowing(LeaderChangeContext ctx) {
        leadership.following(ctx.getLeaderId().toString(), ctx.getTerm());
        LOG.infof("following leader %s in term %d", ctx.getLeaderId(), ctx.getTerm());
    }

    @Override
    public void onStopFollowing(LeaderChangeContext ctx) {
        leadership.leaderless();
    }

    @Override
    public void onConfigurationCommitted(Configuration conf) {
        LOG.infof("cluster members now: %s", conf);
    }

    @Override
    public void onError(RaftException e) {
        LOG.errorf("the Raft node stopped on an error: %s", e.getStatus());
    }
}
