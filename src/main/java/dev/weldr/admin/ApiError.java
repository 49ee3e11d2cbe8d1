package dev.weldr.admin;

/** Every error body of the admin API: a short machine-readable code and one sentence. */
public record ApiError(String error, String message) {
}
