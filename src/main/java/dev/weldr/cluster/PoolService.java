package dev.weldr.cluster;

import dev.weldr.pool.Outcome;
import dev.weldr.pool.Pool;
import dev.weldr.pool.PoolCommand;
import dev.weldr.raft.RaftNode;
import dev.weldr.raft.RaftUnavailableException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

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

    /** The last pool this node applied (may lag the leader by the replication delay). */
    public Pool current() {
        return holder.current();
    }

    public CompletionStage<Outcome> submit(PoolCommand command) {
        if (!leadership.isLeader()) {
            return CompletableFuture.failedFuture(new NoLeaderException(leadership.leaderId() == null
                    ? "the cluster has no leader at the moment"
                    : "this node is not the leader; the leader is " + leadership.leaderId()));
        }
        return raft.apply(command).exceptionallyCompose(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof RaftUnavailableException) {
                return CompletableFuture.failedFuture(new NoLeaderException("the change was not committed: " + cause.getMessage()));
            }
            return CompletableFuture.failedFuture(cause);
        });
    }
}
