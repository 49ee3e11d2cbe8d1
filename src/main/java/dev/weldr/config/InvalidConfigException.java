package dev.weldr.config;

/** Configuration that weldr refuses to start with; the message names the key. */
public class InvalidConfigException extends RuntimeException {

    public InvalidConfigException(String key, String problem) {
        super(key + ": " + problem, null, false, false);
    }
}
