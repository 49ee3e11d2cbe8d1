package dev.weldr.cluster;

import dev.weldr.config.WeldrConfig;
import dev.weldr.pool.Actor;
import dev.weldr.pool.AuditEntry;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.Topology;
import dev.weldr.pool.PoolCommand;
import dev.weldr.raft.RaftNode;
import dev.weldr.raft.RaftUnavailableException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The one entry point for reading and changing the pool. A change completes only after it is
 * committed by the Raft group and applied on this node.
 */
@ApplicationScoped
public class PoolService {

    @Inject
    RaftNode raft;
    @Inject
    PoolHolder holder;
    @Inject
    Leadership leadership;
    @Inject
    WeldrConfig config;

    /** The last pool this node applied (may lag the leader by the replication delay). */
    public Topology current() {
        return holder.current();
    }

    /** The pool as of now, linearizably: everything acknowledged before this call is in it (ReadIndex). */
    public CompletionStage<Topology> consistent() {
        return raft.readIndex()
                .orTimeout(commitTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .handle((index, e) -> {
                    if (e != null) {
                        throw new NoLeaderException("a consistent read needs a leader and a quorum: " + unwrap(e).getMessage());
                    }
                    return holder.current();
                });
    }

    /**
     * Proposes a caller's change with its audit record (who, through which node, now by this
     * leader's clock), in one log entry: the change is in {@code GET /audit} once it commits.
     */
    public CompletionStage<Outcome> submit(PoolCommand command, Actor actor) {
        return propose(command, AuditRecords.of(command, actor, System.currentTimeMillis()));
    }

    /**
     * Commits the audit record of a change that is not a pool command (a member added or removed,
     * leadership handed over) before it is carried out; an action that then fails leaves the record
     * of the request.
     */
    public CompletionStage<Outcome> record(Actor actor, String action, String target, String summary) {
        return propose(new PoolCommand.RecordAudit(), AuditRecords.request(actor, System.currentTimeMillis(), action, target, summary));
    }

    /**
     * Proposes the cluster's own work (ACME progress, session-ticket keys), which no caller asked
     * for and which the audit log does not record.
     */
    public CompletionStage<Outcome> submit(PoolCommand command) {
        return propose(command, null);
    }

    /**
     * Proposes a change on this node, which must be the leader. A leader that loses its quorum
     * steps down within an election timeout and fails the change; past {@link #commitTimeout()}
     * the caller is told that the outcome is unknown rather than kept waiting.
     */
    private CompletionStage<Outcome> propose(PoolCommand command, AuditEntry audit) {
        if (!leadership.isLeader()) {
            return CompletableFuture.failedFuture(new NoLeaderException(leadership.leaderId() == null
                    ? "the cluster has no leader at the moment"
                    : "this node is not the leader; the leader is " + leadership.leaderId()));
        }
        return raft.apply(command, audit)
                .orTimeout(commitTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .exceptionallyCompose(e -> {
                    Throwable cause = unwrap(e);
                    if (cause instanceof TimeoutException) {
                        return CompletableFuture.failedFuture(new NoLeaderException(
                                "the change was not confirmed in time and may or may not have been applied; check GET /servers"));
                    }
                    if (cause instanceof RaftUnavailableException r) {
                        return CompletableFuture.failedFuture(new NoLeaderException(r.notLeader()
                                ? "leadership changed before the change was confirmed; it may or may not have been applied"
                                : "the change was not committed: " + r.getMessage()));
                    }
                    return CompletableFuture.failedFuture(cause);
                });
    }

    /** How long a write may wait for its commit: two election timeouts and a second. */
    public Duration commitTimeout() {
        return config.raft().electionTimeout().multipliedBy(2).plusSeconds(1);
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }
}
