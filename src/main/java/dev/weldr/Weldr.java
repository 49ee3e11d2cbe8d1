package dev.weldr;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

import java.security.Security;

/** Starts a weldr node. A start-up failure is one line on standard error and exit code 1. */
@QuarkusMain
public class Weldr {

    public static void main(String... args) {
        // Servers given by host name are looked up again every 5 s (BackendRegistry); the JVM's
        // own cache of answers (30 s unless configured) would hide a change for longer. Before
        // anything looks a name up; a TTL set with -Dsun.net.inetaddr.ttl or java.security wins.
        if (Security.getProperty("networkaddress.cache.ttl") == null && System.getProperty("sun.net.inetaddr.ttl") == null) {
            Security.setProperty("networkaddress.cache.ttl", "5");
        }
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
