package dev.weldr.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The tokens file ({@code weldr.admin.tokens-file}): one token a line, {@code name:scope:secret},
 * where the secret may be given as {@code sha256:<64 hex digits>} so that the file need not hold
 * it; blank lines and lines starting with {@code #} are skipped. Only digests are kept.
 */
public final class TokenFile {

    /** Bigger than any list of tokens an operator writes by hand; a file past it is a mistake (a wrong path). */
    static final int MAX_BYTES = 1 << 20;
    static final int MIN_SECRET = 16;
    static final String NAME_RULE = "1 to 63 lower-case letters, digits, '-' or '_'";
    private static final Pattern NAME = Pattern.compile("[a-z0-9_-]{1,63}");
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-fA-F]{64}");

    private TokenFile() {
    }

    /** A file that cannot be used; the message says where and why, and never holds a secret. */
    public static final class Invalid extends Exception {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The tokens of {@code content}, after {@code legacy} (the {@code weldr.admin.token} value,
     * which is the {@code admin} token named {@code admin}) when it is set.
     */
    public static List<Token> parse(String content, String legacy) throws Invalid {
        List<Token> tokens = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        Map<String, String> secrets = new HashMap<>();
        if (legacy != null && !legacy.isEmpty()) {
            Token admin = legacy(legacy);
            tokens.add(admin);
            names.put(admin.name(), "weldr.admin.token");
            secrets.put(HexFormat.of().formatHex(admin.digest()), "weldr.admin.token (token 'admin')");
        }
        String[] lines = content.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = "line " + (i + 1);
            String[] parts = line.split(":", 3);
            if (parts.length < 3) {
                throw new Invalid(where + ": expected name:scope:secret (or name:scope:sha256:<hex>)");
            }
            String name = parts[0];
            if (!NAME.matcher(name).matches()) {
                throw new Invalid(where + ": the name must be " + NAME_RULE);
            }
            if (name.equals(Caller.ANONYMOUS) || name.equals("admin") && (legacy == null || legacy.isEmpty())) {
                // The audit log names calls by their token: these two already mean something there.
                throw new Invalid(where + ": the name '" + name + "' is reserved ('anonymous' for calls on a node that needs no token, "
                        + "'admin' for weldr.admin.token)");
            }
            where += " (token '" + name + "')";
            Token.Scope scope = Token.Scope.of(parts[1]);
            if (scope == null) {
                throw new Invalid(where + ": the scope must be read or admin");
            }
            String secret = parts[2];
            byte[] digest;
            if (DIGEST.matcher(secret).matches()) {
                digest = HexFormat.of().parseHex(secret.substring(7).toLowerCase());
            } else {
                if (secret.length() < MIN_SECRET) {
                    throw new Invalid(where + ": the secret is " + secret.length() + " characters; it must have at least "
                            + MIN_SECRET + " (e.g. openssl rand -hex 32), or be given as sha256:<64 hex digits>");
                }
                if (!secret.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                    throw new Invalid(where + ": the secret must be visible ASCII characters (it travels in an HTTP header)");
                }
                digest = sha256(secret);
            }
            String earlier = names.putIfAbsent(name, where);
            if (earlier != null) {
                throw new Invalid(where + ": the name is already given by " + earlier);
            }
            earlier = secrets.putIfAbsent(HexFormat.of().formatHex(digest), where);
            if (earlier != null) {
                throw new Invalid(where + ": the secret is the same as the one of " + earlier);
            }
            tokens.add(new Token(name, scope, digest));
        }
        return List.copyOf(tokens);
    }

    /** {@code weldr.admin.token}: the {@code admin} token named {@code admin}, of any length, as before tokens had names. */
    static Token legacy(String secret) {
        return new Token("admin", Token.Scope.ADMIN, sha256(secret));
    }

    static byte[] sha256(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
