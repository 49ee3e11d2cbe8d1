package dev.weldr.ha;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs an operator's or a system command, bounded in time, logging one line when it fails. */
final class Commands {

    private static final Logger LOG = Logger.getLogger(Commands.class);

    private Commands() {
    }

    /** Runs {@code argv} and returns its exit code (-1 when it could not run or took too long). */
    static int run(List<String> argv, Map<String, String> env, long timeoutMs) {
        return run(argv, env, timeoutMs, false);
    }

    /** As {@link #run(List, Map, long)}, without a log line for a non-zero exit (an expected answer). */
    static int runQuietly(List<String> argv, long timeoutMs) {
        return run(argv, Map.of(), timeoutMs, true);
    }

    private static int run(List<String> argv, Map<String, String> env, long timeoutMs, boolean quiet) {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                LOG.warnf("command %s did not finish within %d ms and was stopped", argv, timeoutMs);
                return -1;
            }
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.exitValue() != 0 && !quiet) {
                LOG.warnf("command %s exited with %d%s", argv, p.exitValue(), output.isEmpty() ? "" : ": " + output.lines().findFirst().orElse(""));
            }
            return p.exitValue();
        } catch (IOException e) {
            LOG.warnf("command %s could not run: %s", argv, e.getMessage());
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /**
     * Starts {@code argv} without waiting for it to end, for a command that does its work at once
     * and then lingers ({@code arping} waits a second for replies that never come to an
     * unsolicited ARP). A non-zero exit is logged when it ends; one ended by a signal is not.
     * Returns null when it could not start.
     */
    static Process launch(List<String> argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            p.onExit().thenAccept(done -> {
                int code = done.exitValue();
                if (code > 0 && code < 128) {
                    LOG.warnf("command %s exited with %d", argv, code);
                }
            });
            return p;
        } catch (IOException e) {
            LOG.warnf("command %s could not run: %s", argv, e.getMessage());
            return null;
        }
    }

    /** An operator's hook, run through the shell as keepalived runs notify scripts. */
    static int shell(String command, Map<String, String> env, long timeoutMs) {
        return run(List.of("/bin/sh", "-c", command), env, timeoutMs);
    }
}
