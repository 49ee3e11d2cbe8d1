package dev.weldr;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/** Starts a weldr node. A start-up failure is one line on standard error and exit code 1. */
@QuarkusMain
public class Weldr {

    public static void main(String... args) {
        // On the second core, ahead of Quarkus: the classes start-up is about to load.
        Preload.start();
        // Off the start-up path: the management beans take a few tens of ms to come up.
        Thread tuning = new Thread(HeapTuning::apply, "weldr-heap-tuning");
        tuning.setDaemon(true);
        tuning.start();
        Quarkus.run(null, (code, failure) -> {
            if (failure != null) {
                System.err.println("weldr: " + StartupFailure.describe(failure));
            }
            System.exit(code == 0 && failure != null ? 1 : code);
        }, args);
    }
}
