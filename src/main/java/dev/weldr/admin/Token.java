package dev.weldr.admin;

import java.util.Locale;

/** A named admin token: its scope and the SHA-256 digest of its secret (the secret itself is never kept). */
public record Token(String name, Scope scope, byte[] digest) {

    public enum Scope {
        /** GET, HEAD and OPTIONS on the protected resources: for dashboards and monitoring jobs. */
        READ,
        /** Every call. */
        ADMIN;

        static Scope of(String text) {
            return switch (text) {
                case "read" -> READ;
                case "admin" -> ADMIN;
                default -> null;
            };
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Whether this token may make a call with {@code method}. */
    public boolean allows(String method) {
        return scope == Scope.ADMIN || method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS");
    }
}
