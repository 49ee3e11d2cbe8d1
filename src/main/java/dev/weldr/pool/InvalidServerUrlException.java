package dev.weldr.pool;

/** A server URL that weldr cannot proxy to; the message is one sentence for the API user. */
public class InvalidServerUrlException extends IllegalArgumentException {
    public InvalidServerUrlException(String message) {
        super(message);
    }
}
