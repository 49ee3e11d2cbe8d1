package dev.weldr.admin;

import dev.weldr.config.WeldrConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The admin token, read from run-time configuration. A separate normal-scoped bean because REST
 * filters are built at static init, before run-time configuration exists.
 */
@ApplicationScoped
public class AdminToken {

    @Inject
    WeldrConfig config;

    public boolean required() {
        return config.admin().token().filter(t -> !t.isEmpty()).isPresent();
    }

    /** Compared in constant time so that the answer's timing says nothing of the token. */
    public boolean matches(String given) {
        String token = config.admin().token().orElse("");
        return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
    }
}
