package dev.weldr;

import dev.weldr.config.InvalidConfigException;
import io.smallrye.config.ConfigValidationException;

import java.net.BindException;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns whatever stopped start-up into one line an operator can act on. */
final class StartupFailure {

    // SRCFG00039: The config property K with the config value "V" threw an Exception whilst being converted REASON
    private static final Pattern CONVERSION = Pattern.compile(
            ".*config property (\\S+) with the config value \"(.*)\" threw an Exception whilst being converted (?:SRCFG\\d+: )?(.*)");

    private StartupFailure() {
    }

    static String describe(Throwable failure) {
        for (Throwable c = failure; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof InvalidConfigException) {
                return "invalid configuration: " + c.getMessage();
            }
            if (c instanceof ConfigValidationException invalid) {
                List<String> problems = new ArrayList<>();
                for (int i = 0; i < invalid.getProblemCount(); i++) {
                    problems.add(problem(invalid.getProblem(i).getMessage()));
                }
                return "invalid configuration: " + String.join("; ", problems);
            }
            if (c instanceof BindException) {
                return "cannot listen: " + c.getMessage();
            }
            if (c instanceof NoSuchElementException || c instanceof IllegalArgumentException) {
                return "invalid configuration: " + firstLine(c.getMessage());
            }
        }
        return firstLine(String.valueOf(failure.getMessage()));
    }

    private static String problem(String message) {
        Matcher m = CONVERSION.matcher(firstLine(message));
        if (m.matches()) {
            return m.group(1) + ": \"" + m.group(2) + "\" is not valid (" + m.group(3).trim() + ")";
        }
        return firstLine(message).replaceFirst("^SRCFG\\d+: ", "");
    }

    private static String firstLine(String message) {
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
