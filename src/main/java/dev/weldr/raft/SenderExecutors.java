package dev.weldr.raft;

import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import com.alipay.sofa.jraft.rpc.RpcRequests;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Bounds the threads JRaft's AppendEntries processor starts for the senders a request header
 * names. JRaft picks a single-thread executor per (group, this node, sender) before any
 * processor runs (so before {@link IdentityCheck}), keyed by the header's strings as sent, and
 * drops it only when a connection that was served closes: every made-up sender, refused or
 * answered with a stale term, would leave a thread behind for good. So the header must name this
 * node exactly as JRaft writes its id, and a sender exactly as a member's id is written (the
 * same endpoint with another index or priority is another key); the first {@link #STRANGERS}
 * other senders get one too (a leader appending to this node before the configuration that
 * names it has arrived). Anything else is served on the processor's default executor, in no
 * order, which a real leader survives by resending.
 */
final class SenderExecutors implements RpcProcessor.ExecutorSelector {

    static final int STRANGERS = 8;
    /** Longer than any host:port a member could have. */
    private static final int MAX_ID = 300;

    private final RpcProcessor.ExecutorSelector selector;
    private final Supplier<PeerId> self;
    private final Supplier<List<PeerId>> members;
    private final Set<String> strangers = new HashSet<>();

    SenderExecutors(RpcProcessor.ExecutorSelector selector, Supplier<PeerId> self, Supplier<List<PeerId>> members) {
        this.selector = selector;
        this.self = self;
        this.members = members;
    }

    @Override
    public Executor select(String requestClass, Object header) {
        if (header instanceof RpcRequests.AppendEntriesRequestHeader h
                && !(String.valueOf(self.get()).equals(h.getPeerId()) && admitted(h.getServerId()))) {
            return null;
        }
        return selector.select(requestClass, header);
    }

    private boolean admitted(String serverId) {
        if (serverId.length() > MAX_ID) {
            return false;
        }
        if (named(members.get(), serverId)) {
            return true;
        }
        synchronized (strangers) {
            return strangers.contains(serverId) || strangers.size() < STRANGERS && strangers.add(serverId);
        }
    }

    /** Whether {@code id} is one of {@code members}' ids exactly as JRaft writes it. */
    static boolean named(List<PeerId> members, String id) {
        for (PeerId member : members) {
            if (member.toString().equals(id)) {
                return true;
            }
        }
        return false;
    }

    /** {@code processor} with its executor selector bounded as above. */
    static <T> RpcProcessor<T> bounded(RpcProcessor<T> processor, Supplier<PeerId> self, Supplier<List<PeerId>> members) {
        RpcProcessor.ExecutorSelector selector = processor.executorSelector();
        if (selector == null) {
            return processor;
        }
        SenderExecutors bounded = new SenderExecutors(selector, self, members);
        return new DelegatingProcessor<>(processor) {
            @Override
            public ExecutorSelector executorSelector() {
                return bounded;
            }
        };
    }
}
