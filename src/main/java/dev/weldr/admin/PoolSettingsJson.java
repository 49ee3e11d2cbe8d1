package dev.weldr.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weldr.pool.BackendProtocol;
import dev.weldr.pool.BackendTls;
import dev.weldr.pool.HealthCheckSpec;
import dev.weldr.pool.LbPolicy;
import dev.weldr.pool.Limits;
import dev.weldr.pool.OutlierSpec;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Server;
import dev.weldr.tls.BackendTrust;
import dev.weldr.tls.InvalidCertificateException;
import io.quarkus.runtime.configuration.DurationConverter;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A pool's settings as the API reads and shows them:
 * <pre>
 * {"policy": "round-robin" | "weighted-round-robin" | "least-requests" | "consistent-hash",
 *  "hashOn": "header:X-User" | "cookie:session" | "client-address",
 *  "protocol": "http1" | "h2" | "h2c",
 *  "healthCheck": {"interval": "10s", "timeout": "2s", "path": "/", "expectedStatus": "200-299", "failures": 3, "passes": 2,
 *                  "mode": "http" | "grpc", "grpcService": "my.package.Orders"},
 *  "outlier": {"consecutiveFailures": 5, "count5xx": false, "baseEjection": "30s", "maxEjection": "300s", "maxEjectionPercent": 10},
 *  "limits": {"retries": 1, "maxRequests": 0},
 *  "tls": {"verify": true, "ca": "-----BEGIN CERTIFICATE-----...", "serverName": "api.internal"}}
 * </pre>
 * Every part is optional; what is left out keeps its current (or default) value. {@code tls.ca}
 * and {@code tls.serverName} are cleared with null.
 */
final class PoolSettingsJson {

    static final Set<String> FIELDS = Set.of("policy", "hashOn", "protocol", "healthCheck", "outlier", "limits", "tls");
    private static final Set<String> HEALTH_FIELDS = Set.of("interval", "timeout", "path", "expectedStatus", "failures", "passes",
            "mode", "grpcService");
    private static final Set<String> OUTLIER_FIELDS = Set.of("consecutiveFailures", "count5xx", "baseEjection", "maxEjection", "maxEjectionPercent");
    private static final Set<String> LIMIT_FIELDS = Set.of("retries", "maxRequests");
    private static final Set<String> TLS_FIELDS = Set.of("verify", "ca", "serverName");

    private PoolSettingsJson() {
    }

    static PoolSettings read(JsonNode body, PoolSettings base) {
        LbPolicy policy = policy(body, base.policy());
        HealthCheckSpec health = body.has("healthCheck") ? health(section(body, "healthCheck", HEALTH_FIELDS), base.healthCheck()) : base.healthCheck();
        OutlierSpec outlier = body.has("outlier") ? outlier(section(body, "outlier", OUTLIER_FIELDS), base.outlier()) : base.outlier();
        Limits limits = base.limits();
        if (body.has("limits")) {
            JsonNode l = section(body, "limits", LIMIT_FIELDS);
            Integer retries = Bodies.integer(l, "retries", 0, 10);
            Integer max = Bodies.integer(l, "maxRequests", 0, 1_000_000);
            limits = new Limits(retries == null ? limits.retries() : retries, max == null ? limits.maxRequests() : max);
        }
        BackendTls tls = body.has("tls") ? tls(section(body, "tls", TLS_FIELDS), base.tls()) : base.tls();
        BackendProtocol protocol = protocol(body, base.protocol());
        if (health.grpc() && !protocol.http2()) {
            throw ApiException.badRequest("healthCheck.mode grpc needs protocol h2 or h2c: gRPC runs over HTTP/2");
        }
        return new PoolSettings(policy, health, outlier, limits, tls, protocol);
    }

    private static BackendProtocol protocol(JsonNode body, BackendProtocol base) {
        String text = Bodies.text(body, "protocol", false);
        if (text == null) {
            return base;
        }
        BackendProtocol protocol = BackendProtocol.parse(text);
        if (protocol == null) {
            throw ApiException.badRequest("protocol must be http1, h2 or h2c, not '" + text + "'");
        }
        return protocol;
    }

    /**
     * Why a server cannot join a pool of that protocol, said as the API answers it; the replicas
     * refuse the same server alike ({@link dev.weldr.pool.Outcome.Result#WRONG_SCHEME}).
     */
    static String schemeProblem(BackendProtocol protocol, Server server) {
        return "server " + server.scheme() + "://" + server.id() + ": " + protocol.schemeProblem(server.scheme());
    }

    /** The CA bundle is parsed here, before anything is committed: a bundle that trusts nothing is a 400. */
    private static BackendTls tls(JsonNode t, BackendTls base) {
        Boolean verify = Bodies.bool(t, "verify");
        String ca = base.ca();
        if (t.has("ca")) {
            ca = Bodies.text(t, "ca", false);
            if (ca != null) {
                try {
                    BackendTrust.caBundle(ca);
                } catch (InvalidCertificateException e) {
                    throw new ApiException(400, "invalid_certificate", e.getMessage());
                }
            }
        }
        String serverName = base.serverName();
        if (t.has("serverName")) {
            serverName = Bodies.text(t, "serverName", false);
            String problem = serverName == null ? null : BackendTrust.serverNameProblem(serverName);
            if (problem != null) {
                throw ApiException.badRequest("tls.serverName " + problem);
            }
            serverName = serverName == null ? null : serverName.toLowerCase(Locale.ROOT);
        }
        return new BackendTls(verify != null ? verify : base.verify(), ca, serverName);
    }

    private static LbPolicy policy(JsonNode body, LbPolicy base) {
        String kindText = Bodies.text(body, "policy", false);
        String hashText = Bodies.text(body, "hashOn", false);
        LbPolicy.Kind kind = base.kind();
        if (kindText != null) {
            try {
                kind = LbPolicy.Kind.valueOf(kindText.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("policy must be round-robin, weighted-round-robin, least-requests or consistent-hash, not '" + kindText + "'");
            }
        }
        if (kind != LbPolicy.Kind.CONSISTENT_HASH) {
            if (hashText != null) {
                throw ApiException.badRequest("hashOn goes with the consistent-hash policy only");
            }
            return new LbPolicy(kind, null, null);
        }
        if (hashText == null) {
            if (base.kind() == LbPolicy.Kind.CONSISTENT_HASH) {
                return base;
            }
            throw ApiException.badRequest("the consistent-hash policy needs hashOn: header:<name>, cookie:<name> or client-address");
        }
        if (hashText.equals("client-address")) {
            return new LbPolicy(kind, LbPolicy.HashOn.CLIENT_ADDRESS, null);
        }
        int colon = hashText.indexOf(':');
        String source = colon < 0 ? hashText : hashText.substring(0, colon);
        String name = colon < 0 ? "" : hashText.substring(colon + 1).trim();
        if (!source.equals("header") && !source.equals("cookie")) {
            throw ApiException.badRequest("hashOn must be header:<name>, cookie:<name> or client-address, not '" + hashText + "'");
        }
        if (!name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
            throw ApiException.badRequest("hashOn " + source + " needs a name, e.g. " + source + ":" + (source.equals("header") ? "X-User" : "session"));
        }
        return new LbPolicy(kind, source.equals("header") ? LbPolicy.HashOn.HEADER : LbPolicy.HashOn.COOKIE, name);
    }

    private static HealthCheckSpec health(JsonNode h, HealthCheckSpec base) {
        String path = Bodies.text(h, "path", false);
        String pathProblem = path == null ? null : HealthCheckSpec.pathProblem(path);
        if (pathProblem != null) {
            throw ApiException.badRequest("healthCheck.path " + pathProblem);
        }
        Integer min = base.statusMin();
        Integer max = base.statusMax();
        String expected = Bodies.text(h, "expectedStatus", false);
        if (expected != null) {
            String[] parts = expected.split("-", -1);
            try {
                min = Integer.parseInt(parts[0].trim());
                max = parts.length == 2 ? Integer.parseInt(parts[1].trim()) : min;
            } catch (NumberFormatException e) {
                min = -1;
            }
            if (parts.length > 2 || min < 100 || max > 599 || min > max) {
                throw ApiException.badRequest("healthCheck.expectedStatus must be a status or a range such as 200-399");
            }
        }
        Integer failures = Bodies.integer(h, "failures", 1, 100);
        Integer passes = Bodies.integer(h, "passes", 1, 100);
        return new HealthCheckSpec(checkDuration(h, "interval", base.interval()), checkDuration(h, "timeout", base.timeout()),
                path != null ? path : base.path(), min, max,
                failures != null ? failures : base.failures(), passes != null ? passes : base.passes(), grpcService(h, base));
    }

    /** The gRPC service a check asks about, or null for an HTTP check; as hashOn goes with its policy. */
    private static String grpcService(JsonNode h, HealthCheckSpec base) {
        String mode = Bodies.text(h, "mode", false);
        String service = Bodies.text(h, "grpcService", false);
        boolean grpc = base.grpc();
        if (mode != null) {
            switch (mode) {
                case "http" -> grpc = false;
                case "grpc" -> grpc = true;
                default -> throw ApiException.badRequest("healthCheck.mode must be http or grpc, not '" + mode + "'");
            }
        }
        if (!grpc) {
            if (service != null) {
                throw ApiException.badRequest("healthCheck.grpcService goes with healthCheck.mode grpc only");
            }
            return null;
        }
        if (service == null) {
            return base.grpc() ? base.grpcService() : "";
        }
        String problem = HealthCheckSpec.grpcServiceProblem(service);
        if (problem != null) {
            throw ApiException.badRequest("healthCheck.grpcService " + problem);
        }
        return service;
    }

    private static OutlierSpec outlier(JsonNode o, OutlierSpec base) {
        Integer consecutive = Bodies.integer(o, "consecutiveFailures", 0, 1000);
        Boolean count5xx = Bodies.bool(o, "count5xx");
        Integer percent = Bodies.integer(o, "maxEjectionPercent", 0, 100);
        Duration baseEjection = duration(o, "baseEjection", base.baseEjection());
        Duration maxEjection = duration(o, "maxEjection", base.maxEjection());
        if (maxEjection.compareTo(baseEjection) < 0) {
            throw ApiException.badRequest("outlier.maxEjection must not be shorter than outlier.baseEjection");
        }
        return new OutlierSpec(consecutive != null ? consecutive : base.consecutiveFailures(),
                count5xx != null ? count5xx : base.count5xx(), baseEjection, maxEjection,
                percent != null ? percent : base.maxEjectionPercent());
    }

    private static JsonNode section(JsonNode body, String name, Set<String> fields) {
        JsonNode n = body.get(name);
        if (!n.isObject()) {
            throw ApiException.badRequest(name + " must be a JSON object");
        }
        n.fieldNames().forEachRemaining(f -> {
            if (!fields.contains(f)) {
                throw ApiException.badRequest("unknown field '" + name + "." + f + "'");
            }
        });
        return n;
    }

    private static Duration checkDuration(JsonNode n, String field, Duration base) {
        Duration d = duration(n, field, base);
        if (d != null && d.compareTo(HealthCheckSpec.MIN_INTERVAL) < 0) {
            throw ApiException.badRequest("healthCheck." + field + " must be at least "
                    + HealthCheckSpec.MIN_INTERVAL.toMillis() + "ms, not '" + Bodies.text(n, field, false) + "'");
        }
        return d;
    }

    private static Duration duration(JsonNode n, String field, Duration base) {
        String text = Bodies.text(n, field, false);
        if (text == null) {
            return base;
        }
        Duration d;
        try {
            d = DurationConverter.parseDuration(text.trim());
        } catch (RuntimeException e) {
            d = null;
        }
        if (d == null || d.isNegative() || d.isZero() || d.compareTo(Duration.ofDays(1)) > 0) {
            throw ApiException.badRequest(field + " must be a duration such as 500ms or 10s, not '" + text + "'");
        }
        return d;
    }

    /** The settings as the API shows them; unset health-check fields are shown as null (this node's default). */
    static Map<String, Object> view(PoolSettings s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("policy", s.policy().kind().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        if (s.policy().hashOn() != null) {
            m.put("hashOn", s.policy().hashOn() == LbPolicy.HashOn.CLIENT_ADDRESS ? "client-address"
                    : s.policy().hashOn().name().toLowerCase(Locale.ROOT) + ":" + s.policy().hashName());
        }
        m.put("protocol", s.protocol().wireName());
        HealthCheckSpec h = s.healthCheck();
        Map<String, Object> hc = new LinkedHashMap<>();
        hc.put("interval", h.interval() == null ? null : h.interval().toMillis() + "ms");
        hc.put("timeout", h.timeout() == null ? null : h.timeout().toMillis() + "ms");
        hc.put("path", h.path());
        hc.put("expectedStatus", h.statusMin() == null ? null : h.statusMin() + "-" + h.statusMax());
        hc.put("failures", h.failures());
        hc.put("passes", h.passes());
        hc.put("mode", h.grpc() ? "grpc" : "http");
        hc.put("grpcService", h.grpcService());
        m.put("healthCheck", hc);
        OutlierSpec o = s.outlier();
        m.put("outlier", Map.of("consecutiveFailures", o.consecutiveFailures(), "count5xx", o.count5xx(),
                "baseEjection", o.baseEjection().toMillis() + "ms", "maxEjection", o.maxEjection().toMillis() + "ms",
                "maxEjectionPercent", o.maxEjectionPercent()));
        m.put("limits", Map.of("retries", s.limits().retries(), "maxRequests", s.limits().maxRequests()));
        Map<String, Object> tls = new LinkedHashMap<>();
        tls.put("verify", s.tls().verify());
        tls.put("serverName", s.tls().serverName());
        tls.put("ca", s.tls().ca());
        // Shown, not set: what an operator checks against the CA they meant to upload.
        tls.put("caCertificates", s.tls().ca() == null ? List.of() : BackendTrust.describe(s.tls().ca()).stream()
                .map(c -> Map.of("subject", c.subject(), "notAfter", c.notAfter().toString(), "fingerprint", c.fingerprint()))
                .toList());
        m.put("tls", tls);
        return m;
    }
}
