package dev.weldr.raft;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Status;
import dev.weldr.pool.AuditEntry;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.PoolCommand;

import java.util.concurrent.CompletableFuture;

/**
 * Carries a command from the leader's API call to the state machine, and the outcome back:
 * the future completes only after the entry is committed and applied on this node.
 */
final class PoolClosure implements Closure {

    final PoolCommand command;
    final AuditEntry audit;
    final CompletableFuture<Outcome> future = new CompletableFuture<>();
    private Outcome outcome;

    PoolClosure(PoolCommand command, AuditEntry audit) {
        this.command = command;
        this.audit = audit;
    }

    void applied(Outcome outcome) {
        this.outcome = outcome;
    }

    @Override
    public void run(Status status) {
        if (status.isOk() && outcome != null) {
            future.complete(outcome);
        } else {
            future.completeExceptionally(new RaftUnavailableException(status));
        }
    }
}
