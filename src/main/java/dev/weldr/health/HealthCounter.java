package dev.weldr.health;

/**
 * The rise/fall rule of one server (HAProxy's {@code rise}/{@code fall}): {@code failures}
 * consecutive failed checks take an up server down, {@code passes} consecutive passes bring a down
 * server back. A server starts up. Not thread-safe: one server's checks run one after another.
 */
final class HealthCounter {

    enum Change { NONE, WENT_DOWN, CAME_BACK }

    private final int failuresToDown;
    private final int passesToUp;
    private int failures;
    private int passes;
    private boolean up = true;

    HealthCounter(int failuresToDown, int passesToUp) {
        this(failuresToDown, passesToUp, true);
    }

    /** A counter that takes over from another one (new thresholds), keeping its verdict. */
    HealthCounter(int failuresToDown, int passesToUp, boolean up) {
        this.failuresToDown = failuresToDown;
        this.passesToUp = passesToUp;
        this.up = up;
    }

    Change record(boolean pass) {
        if (pass) {
            failures = 0;
            passes++;
            if (!up && passes >= passesToUp) {
                up = true;
                return Change.CAME_BACK;
            }
        } else {
            passes = 0;
            failures++;
            if (up && failures >= failuresToDown) {
                up = false;
                return Change.WENT_DOWN;
            }
        }
        return Change.NONE;
    }

    boolean up() {
        return up;
    }

    /** The length of the current run of failures or of passes. */
    int streak() {
        return Math.max(failures, passes);
    }
}
