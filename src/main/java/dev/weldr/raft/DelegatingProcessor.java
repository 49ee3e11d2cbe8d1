package dev.weldr.raft;

import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;

import java.util.concurrent.Executor;

/**
 * A JRaft processor in front of another: the same request class and executors unless a subclass
 * says otherwise ({@link SenderExecutors}, {@link IdentityCheck}, {@link HeartbeatGaps}).
 */
abstract class DelegatingProcessor<T> implements RpcProcessor<T> {

    protected final RpcProcessor<T> delegate;

    DelegatingProcessor(RpcProcessor<T> delegate) {
        this.delegate = delegate;
    }

    @Override
    public void handleRequest(RpcContext ctx, T request) {
        delegate.handleRequest(ctx, request);
    }

    @Override
    public String interest() {
        return delegate.interest();
    }

    @Override
    public Executor executor() {
        return delegate.executor();
    }

    @Override
    public ExecutorSelector executorSelector() {
        return delegate.executorSelector();
    }
}
