package dev.weldr.raft;

import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.error.RaftError;

/** A command could not be committed: this node is not (or no longer) leader, or the group has no quorum. */
public class RaftUnavailableException extends RuntimeException {

    private final RaftError error;

    public RaftUnavailableException(Status status) {
        super(status.getErrorMsg() == null ? String.valueOf(status.getRaftError()) : status.getErrorMsg());
        this.error = status.getRaftError();
    }

    public RaftError error() {
        return error;
    }

    /** True when the command was refused because this node is not the leader. */
    public boolean notLeader() {
        return error == RaftError.EPERM;
    }
}
