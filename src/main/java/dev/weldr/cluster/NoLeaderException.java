package dev.weldr.cluster;

/** No leader can take a change now (election under way, or no quorum): the client should retry. */
public class NoLeaderException extends RuntimeException {
    public NoLeaderException(String message) {
        super(message);
    }
}
