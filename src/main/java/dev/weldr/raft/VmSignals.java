package dev.weldr.raft;

import org.jboss.logging.Logger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * JRaft's node class installs a SIGUSR2 handler when it is initialised (on that signal it writes
 * node_describe.log, node_metrics.log and thread_pool_metrics.log into the working directory).
 * On Linux, SIGUSR2 is also the signal HotSpot suspends threads with, which is how JFR samples
 * them: with JRaft's handler in its place, JFR records no execution samples at all, and each of
 * its attempts writes those three files again. The VM's own handler is put back right after.
 */
final class VmSignals {

    private static final Logger LOG = Logger.getLogger(VmSignals.class);
    static final String SIGNAL = "USR2";
    private static final String NODE_CLASS = "com.alipay.sofa.jraft.core.NodeImpl";

    private VmSignals() {
    }

    /** Initialises JRaft's node class, keeping whatever handled SIGUSR2 before. */
    static void initialiseNodeClass() {
        Signal usr2;
        SignalHandler previous;
        try {
            usr2 = new Signal(SIGNAL);
            previous = Signal.handle(usr2, signal -> { });
        } catch (Throwable e) {
            // No such signal here (or no way to handle it): nothing JRaft could take either.
            LOG.debugf("SIGUSR2 not handled on this platform: %s", e);
            load();
            return;
        }
        try {
            load();
        } finally {
            Signal.handle(usr2, previous);
        }
    }

    private static void load() {
        try {
            Class.forName(NODE_CLASS, true, VmSignals.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("JRaft is not on the class path", e);
        }
    }
}
