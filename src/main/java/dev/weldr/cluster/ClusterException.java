package dev.weldr.cluster;

/** A membership request that cannot be carried out as asked; the message is one sentence for the operator. */
public class ClusterException extends RuntimeException {

    public enum Kind { BAD_PEER, ALREADY_MEMBER, NOT_MEMBER, NOT_CAUGHT_UP, BUSY }

    private final Kind kind;

    public ClusterException(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
