package dev.weldr.ha;

import org.jboss.logging.Logger;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs an operator's or a system command, bounded in time and in the output kept. */
final class Commands {

    private static final Logger LOG = Logger.getLogger(Commands.class);
    /** Output kept for the log; the rest is read and dropped, so that a chatty command never blocks on a full pipe. */
    static final int KEPT = 4096;
    /**
     * How long output written just before the exit may take to be read. A command that leaves a
     * child of its own running with the pipe open (a hook that starts a daemon) is not waited for.
     */
    private static final long OUTPUT_AFTER_EXIT_MS = 500;

    private Commands() {
    }

    /**
     * How a command ended: its exit code (-1 when it could not run or was stopped at its timeout,
     * both logged here), the first {@link #KEPT} bytes of its output (stdout and stderr), how many
     * bytes it wrote, and how long it took.
     */
    record Result(int exit, String output, long bytes, long millis) {

        boolean ok() {
            return exit == 0;
        }

        /** The first line of the output, at most 200 characters, for a log line. */
        String firstLine() {
            String line = output.lines().map(String::trim).filter(l -> !l.isEmpty()).findFirst().orElse("");
            return line.length() <= 200 ? line : line.substring(0, 200) + "…";
        }

        /** "exit N" with the first line of the output, for a log line. */
        String describe() {
            String line = firstLine();
            return "exit " + exit + (line.isEmpty() ? "" : ": " + line);
        }
    }

    /** Runs {@code argv}, its output read while it runs, and stops it (and its children) after {@code timeoutMs}. */
    static Result run(List<String> argv, Map<String, String> env, long timeoutMs) {
        long started = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            LOG.warnf("command %s could not run: %s", argv, e.getMessage());
            return new Result(-1, "", 0, 0);
        }
        Output output = new Output(p.getInputStream());
        Thread reader = new Thread(output, "weldr-command-output");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
                // Its children first: once the shell is gone they would be out of reach.
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                LOG.warnf("command %s did not finish within %d ms and was stopped", argv, timeoutMs);
                return new Result(-1, output.text(), output.bytes(), millisSince(started));
            }
            reader.join(OUTPUT_AFTER_EXIT_MS);
            return new Result(p.exitValue(), output.text(), output.bytes(), millisSince(started));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            return new Result(-1, output.text(), output.bytes(), millisSince(started));
        }
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
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
    static Result shell(String command, Map<String, String> env, long timeoutMs) {
        return run(List.of("/bin/sh", "-c", command), env, timeoutMs);
    }

    /** Reads a command's output to its end, keeping the first {@link #KEPT} bytes. */
    private static final class Output implements Runnable {
        private final InputStream in;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private long bytes;

        Output(InputStream in) {
            this.in = in;
        }

        @Override
        public void run() {
            byte[] buffer = new byte[8192];
            try (in) {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    synchronized (this) {
                        kept.write(buffer, 0, (int) Math.max(0, Math.min(n, KEPT - bytes)));
                        bytes += n;
                    }
                }
            } catch (IOException e) {
                // the process was stopped, or ended with a child holding the pipe: what was read is kept
            }
        }

        synchronized String text() {
            return kept.toString(StandardCharsets.UTF_8);
        }

        synchronized long bytes() {
            return bytes;
        }
    }
}
