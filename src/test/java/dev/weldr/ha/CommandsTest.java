package dev.weldr.ha;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real commands through /bin/sh: output is read while they run, and only the first bytes are kept. */
class CommandsTest {

    /** Far longer than any loaded machine takes to print a megabyte: a command stopped at it fails the test. */
    private static final long TIMEOUT_MS = 120_000;

    @Test
    void shouldRunACommandThatPrintsAMegabyteToItsEnd() {
        Commands.Result r = Commands.shell("head -c 1048576 /dev/zero | tr '\\0' x; echo; echo done >&2", Map.of(), TIMEOUT_MS);
        assertEquals(0, r.exit(), "the command did not end by itself: " + r);
        assertEquals(1048576 + 1 + 5, r.bytes(), "stdout and stderr are both read to their end");
        assertEquals(Commands.KEPT, r.output().length(), "only the first bytes are kept");
        assertTrue(r.output().chars().allMatch(c -> c == 'x'), "the first bytes are kept");
    }

    @Test
    void shouldReportTheExitCodeAndTheFirstLineOfAFailure() {
        Commands.Result r = Commands.shell("echo; echo '  RTNETLINK answers: Operation not permitted'; echo more; exit 2", Map.of(), TIMEOUT_MS);
        assertEquals(2, r.exit());
        assertEquals("exit 2: RTNETLINK answers: Operation not permitted", r.describe());
    }

    @Test
    void shouldStopACommandAndItsChildrenAtTheTimeout() throws Exception {
        Commands.Result r = Commands.shell("echo $$; sleep 600 & echo $!; wait", Map.of(), 3000);
        assertEquals(-1, r.exit(), r.toString());
        String[] pids = r.output().trim().split("\\s+");
        assertEquals(2, pids.length, r.output());
        for (String pid : pids) {
            var p = ProcessHandle.of(Long.parseLong(pid));
            if (p.isPresent()) {
                p.get().onExit().get(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void shouldGiveTheCommandAnEmptyStdinAndItsEnvironment() {
        Commands.Result r = Commands.shell("cat; echo \"$WELDR_ROLE\"", Map.of("WELDR_ROLE", "leader"), TIMEOUT_MS);
        assertEquals(0, r.exit());
        assertEquals("leader", r.output().trim());
    }
}
