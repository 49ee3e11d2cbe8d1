package dev.weldr;

import dev.weldr.config.InvalidConfigException;

import java.net.BindException;
import java.util.NoSuchElementException;

/** Turns whatever stopped start-up into one sentence an operator can act on. */
final class StartupFailure {

    private StartupFailure() {
    }

    static String describe(Throwable failure) {
        for (Throwable c = failure; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof InvalidConfigException) {
                return "invalid configuration: " + c.getMessage();
            }
            if (c instanceof BindException) {
                return "cannot listen: " + c.getMessage();
            }
            if (c.getClass().getName().equals("io.smallrye.config.ConfigValidationException")
                    || c instanceof NoSuchElementException || c instanceof IllegalArgumentException) {
                return "invalid configuration: " + firstLine(c.getMessage());
            }
        }
        return firstLine(String.valueOf(failure.getMessage()));
    }

    private static String firstLine(String message) {
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
