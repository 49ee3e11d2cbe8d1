package dev.weldr.admin;

import dev.weldr.config.InvalidConfigException;
import dev.weldr.config.WeldrConfig;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The admin tokens in use: {@code weldr.admin.token} as the {@code admin} token named
 * {@code admin}, and those of {@code weldr.admin.tokens-file}, whose contents are read again every
 * {@code weldr.admin.tokens-reload-interval}. Reading the contents, not watching the file, also sees
 * a Kubernetes Secret or cert-manager volume, which is updated by swapping a symbolic link. A
 * change that does not parse leaves the tokens in use as they are. A separate normal-scoped bean
 * because REST filters are built at static init, before run-time configuration exists.
 */
@ApplicationScoped
public class AdminTokens {

    private static final Logger LOG = Logger.getLogger(AdminTokens.class);
    private static final String KEY = "weldr.admin.tokens-file";

    @Inject
    WeldrConfig config;

    private volatile List<Token> tokens = List.of();
    /**
     * The digest of what the file held at the last look (or of why it could not be read), so that
     * a change is acted on once; a digest, so that no secret stays in memory.
     */
    private String seen;
    /** A content read once, different from the one in use; taken if the next read finds it again. */
    private String pending;
    private ScheduledExecutorService watcher;

    /** Whether calls to the protected resources need a token at all. */
    public boolean required() {
        return legacy() != null || config.admin().tokensFile().isPresent();
    }

    /**
     * The token whose secret is {@code given}, or null. Every token is compared, in constant time,
     * so that the answer's timing says nothing of the secrets nor of which one matched.
     */
    public Token find(String given) {
        if (given == null) {
            return null;
        }
        byte[] digest = TokenFile.sha256(given);
        Token found = null;
        for (Token t : tokens) {
            if (MessageDigest.isEqual(digest, t.digest())) {
                found = t;
            }
        }
        return found;
    }

    /**
     * Reads the tokens at start-up (called by ConfigCheck): a tokens file that is missing,
     * unreadable or does not parse stops start-up with one line naming the key.
     */
    public synchronized void load() {
        if (config.admin().tokensFile().isEmpty()) {
            tokens = legacy() == null ? List.of() : List.of(TokenFile.legacy(legacy()));
            return;
        }
        Path file = file();
        String content;
        try {
            content = read(file);
        } catch (IOException e) {
            throw new InvalidConfigException(KEY, file + " cannot be read (" + reason(e) + ")");
        }
        try {
            install(TokenFile.parse(content, legacy()), file);
        } catch (TokenFile.Invalid e) {
            throw new InvalidConfigException(KEY, file + " " + e.getMessage());
        }
        seen = fingerprint(content);
        long period = config.admin().tokensReloadInterval().toMillis();
        watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "weldr-tokens");
            t.setDaemon(true);
            return t;
        });
        watcher.scheduleWithFixedDelay(() -> {
            try {
                reload();
            } catch (RuntimeException e) {
                // A scheduled task that throws is never run again: say it, and look again next time.
                LOG.errorf("%s: reading %s again failed: %s", KEY, file, e.toString());
            }
        }, period, period, TimeUnit.MILLISECONDS);
    }

    synchronized void reload() {
        Path file = file();
        String content;
        String problem = null;
        try {
            content = read(file);
        } catch (IOException e) {
            problem = "cannot be read (" + reason(e) + ")";
            content = "\0unreadable: " + problem;
        }
        String fingerprint = fingerprint(content);
        if (fingerprint.equals(seen)) {
            pending = null;
            return;
        }
        if (!fingerprint.equals(pending)) {
            // Used once two reads in a row find it: an edit written in place, caught half-way at a
            // line boundary, parses, and would drop the tokens below it until the next read.
            pending = fingerprint;
            return;
        }
        seen = fingerprint;
        pending = null;
        if (problem == null) {
            try {
                install(TokenFile.parse(content, legacy()), file);
                return;
            } catch (TokenFile.Invalid e) {
                problem = e.getMessage();
            }
        }
        LOG.errorf("%s: %s %s; the %d tokens loaded before stay in use", KEY, file, problem, tokens.size());
    }

    private void install(List<Token> next, Path file) {
        tokens = next;
        LOG.infof("loaded %d admin tokens from %s: %s", next.size(), file,
                next.stream().map(t -> t.name() + " (" + t.scope() + ")").collect(Collectors.joining(", ")));
    }

    private static String fingerprint(String content) {
        return HexFormat.of().formatHex(TokenFile.sha256(content));
    }

    private static String read(Path file) throws IOException {
        if (Files.size(file) > TokenFile.MAX_BYTES) {
            throw new IOException("larger than " + TokenFile.MAX_BYTES / 1024 + " KiB: is it the tokens file?");
        }
        return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    }

    private static String reason(IOException e) {
        return e instanceof java.nio.file.NoSuchFileException ? "no such file"
                : e instanceof java.nio.file.AccessDeniedException ? "permission denied" : String.valueOf(e.getMessage());
    }

    private Path file() {
        return Path.of(config.admin().tokensFile().orElseThrow());
    }

    private String legacy() {
        return config.admin().token().filter(t -> !t.isBlank()).orElse(null);
    }

    void stop(@Observes ShutdownEvent event) {
        if (watcher != null) {
            watcher.shutdownNow();
        }
    }
}
