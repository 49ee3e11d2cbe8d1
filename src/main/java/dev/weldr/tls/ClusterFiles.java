package dev.weldr.tls;

import dev.weldr.config.InvalidConfigException;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.function.Function;

/**
 * The three files of {@code weldr.cluster.tls.*} and the material made of them. {@link #load}
 * at start-up throws on bad files; {@link #reload} never does: bad files leave the material in
 * use, with one error line per distinct bad content (a file being rewritten is seen as bad once,
 * not every poll). Compares contents, not timestamps or inodes: cert-manager and Kubernetes
 * secrets swap a symlink to a new directory.
 */
public final class ClusterFiles {

    private static final Logger LOG = Logger.getLogger(ClusterFiles.class);

    private final Path cert;
    private final Path key;
    private final Path ca;
    private final Function<ClusterMaterial.Contents, ClusterMaterial> make;
    private ClusterMaterial.Contents loaded;
    private volatile ClusterMaterial current;
    /** The contents (or the read failure) last reported as bad. */
    private Object reportedBad;

    public ClusterFiles(Path cert, Path key, Path ca, Function<ClusterMaterial.Contents, ClusterMaterial> make) {
        this.cert = cert;
        this.key = key;
        this.ca = ca;
        this.make = make;
    }

    /** Reads and checks the files; {@link InvalidConfigException} naming the key of the first bad one. */
    public synchronized ClusterMaterial load() {
        ClusterMaterial.Contents contents = ClusterMaterial.read(cert, key, ca);
        current = make.apply(contents);
        loaded = contents;
        return current;
    }

    public ClusterMaterial current() {
        return current;
    }

    /** Reads the files again: the new material when they changed and are good, else null. */
    public synchronized ClusterMaterial reload() {
        ClusterMaterial.Contents contents;
        try {
            contents = ClusterMaterial.read(cert, key, ca);
        } catch (InvalidConfigException e) {
            bad(e.getMessage(), e.getMessage());
            return null;
        }
        if (contents.equals(loaded)) {
            reportedBad = null;
            return null;
        }
        ClusterMaterial next;
        try {
            next = make.apply(contents);
        } catch (InvalidConfigException e) {
            bad(contents, e.getMessage());
            return null;
        }
        loaded = contents;
        current = next;
        reportedBad = null;
        LOG.infof("Cluster TLS reloaded: %s; new connections use it", next.describe());
        return next;
    }

    private void bad(Object what, String why) {
        if (!what.equals(reportedBad)) {
            reportedBad = what;
            LOG.errorf("Cluster TLS: the files changed but cannot be used; the material loaded before stays in use: %s", why);
        }
    }
}
