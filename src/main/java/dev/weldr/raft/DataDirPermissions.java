package dev.weldr.raft;

import dev.weldr.config.WeldrConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The data directory holds the certificates' private keys (in the Raft log and snapshots), so it
 * is made the owner's only (0700) before Raft writes anything in it: RocksDB creates its files
 * with the process's umask, and a directory nobody else may enter protects them whatever it is.
 * Where the directory belongs to someone else (a volume's mount point), its {@code log} and
 * {@code snapshot} directories, which weldr creates, are made 0700 instead.
 */
@ApplicationScoped
public class DataDirPermissions {

    private static final Logger LOG = Logger.getLogger(DataDirPermissions.class);
    static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    @Inject
    WeldrConfig config;

    void protect(@Observes @Priority(6) StartupEvent event) {
        Path dir = Path.of(config.raft().dataDir()).toAbsolutePath().normalize();
        try {
            Files.createDirectories(dir);
            if (!Files.getFileStore(dir).supportsFileAttributeView("posix")) {
                return;
            }
            if (!ownerOnly(dir)) {
                LOG.warnf("data directory %s: cannot make it readable by its owner only;"
                        + " its log and snapshot directories are, but protect it yourself (chmod 700)", dir);
                for (String sub : new String[]{"log", "snapshot"}) {
                    Path p = dir.resolve(sub);
                    Files.createDirectories(p);
                    ownerOnly(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("weldr.raft.data-dir: cannot create " + dir, e);
        }
    }

    private static boolean ownerOnly(Path p) {
        try {
            if (!Files.getPosixFilePermissions(p).equals(OWNER_ONLY)) {
                Files.setPosixFilePermissions(p, OWNER_ONLY);
            }
            return true;
        } catch (IOException | SecurityException e) {
            return false;
        }
    }
}
