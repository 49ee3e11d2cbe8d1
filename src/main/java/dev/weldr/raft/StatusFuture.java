package dev.weldr.raft;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Status;

import java.util.concurrent.CompletableFuture;

/** A JRaft closure as a future: completes on OK, fails with {@link RaftUnavailableException} otherwise. */
final class StatusFuture implements Closure {

    final CompletableFuture<Void> future = new CompletableFuture<>();

    @Override
    public void run(Status status) {
        if (status.isOk()) {
            future.complete(null);
        } else {
            future.completeExceptionally(new RaftUnavailableException(status));
        }
    }
}
