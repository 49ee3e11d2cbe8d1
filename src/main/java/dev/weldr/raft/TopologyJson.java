package dev.weldr.raft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weldr.pool.BackendProtocol;
import dev.weldr.pool.BackendTls;
import dev.weldr.pool.AcmeAccount;
import dev.weldr.pool.AcmeChallenge;
import dev.weldr.pool.AuditEntry;
import dev.weldr.pool.Certificate;
import dev.weldr.pool.ManagedCertificate;
import dev.weldr.pool.TicketKey;
import dev.weldr.pool.HealthCheckSpec;
import dev.weldr.pool.Hsts;
import dev.weldr.pool.LbPolicy;
import dev.weldr.pool.Limits;
import dev.weldr.pool.OutlierSpec;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Route;
import dev.weldr.pool.Server;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The log and snapshot form of the domain's values: small JSON objects, durations in milliseconds. */
final class TopologyJson {

    static final ObjectMapper JSON = new ObjectMapper();

    private TopologyJson() {
    }

    static ObjectNode server(Server s) {
        ObjectNode n = JSON.createObjectNode();
        n.put("scheme", s.scheme());
        n.put("host", s.host());
        n.put("port", s.port());
        n.put("weight", s.weight());
        n.put("draining", s.draining());
        return n;
    }

    static Server server(JsonNode n) {
        return new Server(n.required("scheme").asText(), n.required("host").asText(),
                n.required("port").asInt(), n.path("weight").asInt(Server.DEFAULT_WEIGHT),
                n.path("draining").asBoolean(false));
    }

    static ObjectNode route(Route r) {
        ObjectNode n = JSON.createObjectNode();
        n.put("name", r.name());
        n.put("host", r.host());
        n.put("pathPrefix", r.pathPrefix());
        n.put("pool", r.pool());
        // Written only when set: a route without them is the same record as before they existed.
        if (r.httpsRedirect()) {
            n.put("httpsRedirect", true);
        }
        if (r.hsts() != null) {
            n.putObject("hsts").put("maxAge", r.hsts().maxAge())
                    .put("includeSubDomains", r.hsts().includeSubDomains()).put("preload", r.hsts().preload());
        }
        return n;
    }

    /** A route as written by this version or by one before route options existed (no redirect, no HSTS). */
    static Route route(JsonNode n) {
        JsonNode hsts = n.path("hsts");
        return new Route(n.required("name").asText(), n.path("host").asText(""), n.path("pathPrefix").asText("/"),
                n.required("pool").asText(), n.path("httpsRedirect").asBoolean(false),
                hsts.isObject() ? new Hsts(hsts.required("maxAge").asLong(), hsts.path("includeSubDomains").asBoolean(false),
                        hsts.path("preload").asBoolean(false)) : null);
    }

    static ObjectNode certificate(Certificate c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("name", c.name());
        n.put("chain", c.chain());
        n.put("key", c.key());
        return n;
    }

    static Certificate certificate(JsonNode n) {
        return new Certificate(n.required("name").asText(), n.required("chain").asText(), n.required("key").asText());
    }

    static ObjectNode acmeAccount(AcmeAccount a) {
        ObjectNode n = JSON.createObjectNode();
        n.put("directory", a.directory());
        n.put("email", a.email());
        n.put("location", a.location());
        n.put("key", a.key());
        return n;
    }

    static AcmeAccount acmeAccount(JsonNode n) {
        return new AcmeAccount(n.required("directory").asText(), textOrNull(n, "email"), textOrNull(n, "location"),
                n.required("key").asText());
    }

    static ObjectNode managed(ManagedCertificate m) {
        ObjectNode n = JSON.createObjectNode();
        n.put("name", m.name());
        ArrayNode names = n.putArray("names");
        m.names().forEach(names::add);
        n.put("state", m.state().name());
        n.put("order", m.order());
        n.put("orderKey", m.orderKey());
        ArrayNode challenges = n.putArray("challenges");
        for (AcmeChallenge c : m.challenges()) {
            challenges.addObject().put("type", c.type()).put("host", c.host()).put("token", c.token()).put("response", c.response());
        }
        n.put("error", m.error());
        n.put("nextAttempt", m.nextAttempt());
        n.put("failures", m.failures());
        n.put("renewAt", m.renewAt());
        n.put("generation", m.generation());
        return n;
    }

    static ManagedCertificate managed(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.required("names").forEach(x -> names.add(x.asText()));
        List<AcmeChallenge> challenges = new ArrayList<>();
        n.path("challenges").forEach(c -> challenges.add(new AcmeChallenge(c.required("type").asText(), c.required("host").asText(),
                c.required("token").asText(), c.required("response").asText())));
        return new ManagedCertificate(n.required("name").asText(), names, ManagedCertificate.State.valueOf(n.required("state").asText()),
                textOrNull(n, "order"), textOrNull(n, "orderKey"), challenges, textOrNull(n, "error"),
                n.path("nextAttempt").asLong(0), n.path("failures").asInt(0), n.path("renewAt").asLong(0),
                n.path("generation").asLong(0));
    }

    private static String textOrNull(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    /** An audit record; its id is left out while it is 0 (in a log entry, where the entry's index gives it). */
    static ObjectNode audit(AuditEntry a) {
        ObjectNode n = JSON.createObjectNode();
        if (a.id() != 0) {
            n.put("id", a.id());
        }
        n.put("time", a.time());
        n.put("token", a.token());
        n.put("node", a.node());
        n.put("action", a.action());
        n.put("target", a.target());
        n.put("summary", a.summary());
        return n;
    }

    static AuditEntry audit(JsonNode n) {
        return new AuditEntry(n.path("id").asLong(0), n.required("time").asLong(), n.required("token").asText(),
                n.required("node").asText(), n.required("action").asText(), n.path("target").asText(""),
                n.path("summary").asText(""));
    }

    static ObjectNode ticketKey(TicketKey k) {
        return JSON.createObjectNode().put("created", k.created()).put("key", k.key());
    }

    static TicketKey ticketKey(JsonNode n) {
        return new TicketKey(n.required("created").asLong(), n.required("key").asText());
    }

    static ObjectNode settings(PoolSettings s) {
        ObjectNode n = JSON.createObjectNode();
        ObjectNode policy = n.putObject("policy");
        policy.put("kind", s.policy().kind().name());
        if (s.policy().hashOn() != null) {
            policy.put("hashOn", s.policy().hashOn().name());
        }
        if (s.policy().hashName() != null) {
            policy.put("hashName", s.policy().hashName());
        }
        HealthCheckSpec h = s.healthCheck();
        ObjectNode hc = n.putObject("healthCheck");
        putMillis(hc, "interval", h.interval());
        putMillis(hc, "timeout", h.timeout());
        if (h.path() != null) {
            hc.put("path", h.path());
        }
        putInt(hc, "statusMin", h.statusMin());
        putInt(hc, "statusMax", h.statusMax());
        putInt(hc, "failures", h.failures());
        putInt(hc, "passes", h.passes());
        // Written only when set, like the protocol below: an HTTP check and an HTTP/1.1 pool encode
        // to the same bytes as before either existed.
        if (h.grpcService() != null) {
            hc.put("grpcService", h.grpcService());
        }
        OutlierSpec o = s.outlier();
        ObjectNode od = n.putObject("outlier");
        od.put("consecutiveFailures", o.consecutiveFailures());
        od.put("count5xx", o.count5xx());
        od.put("baseEjectionMs", o.baseEjection().toMillis());
        od.put("maxEjectionMs", o.maxEjection().toMillis());
        od.put("maxEjectionPercent", o.maxEjectionPercent());
        ObjectNode l = n.putObject("limits");
        l.put("retries", s.limits().retries());
        l.put("maxRequests", s.limits().maxRequests());
        BackendTls tls = s.tls();
        ObjectNode t = n.putObject("tls");
        t.put("verify", tls.verify());
        if (tls.ca() != null) {
            t.put("ca", tls.ca());
        }
        if (tls.serverName() != null) {
            t.put("serverName", tls.serverName());
        }
        if (s.protocol() != BackendProtocol.HTTP1) {
            n.put("protocol", s.protocol().name());
        }
        return n;
    }

    static PoolSettings settings(JsonNode n) {
        JsonNode p = n.required("policy");
        LbPolicy policy = new LbPolicy(LbPolicy.Kind.valueOf(p.required("kind").asText()),
                p.hasNonNull("hashOn") ? LbPolicy.HashOn.valueOf(p.get("hashOn").asText()) : null,
                p.hasNonNull("hashName") ? p.get("hashName").asText() : null);
        JsonNode hc = n.path("healthCheck");
        HealthCheckSpec health = new HealthCheckSpec(millis(hc, "interval"), millis(hc, "timeout"),
                hc.hasNonNull("path") ? hc.get("path").asText() : null, integer(hc, "statusMin"), integer(hc, "statusMax"),
                integer(hc, "failures"), integer(hc, "passes"), hc.hasNonNull("grpcService") ? hc.get("grpcService").asText() : null);
        JsonNode od = n.path("outlier");
        OutlierSpec outlier = od.isMissingNode() ? OutlierSpec.DEFAULTS : new OutlierSpec(
                od.required("consecutiveFailures").asInt(), od.path("count5xx").asBoolean(false),
                Duration.ofMillis(od.required("baseEjectionMs").asLong()), Duration.ofMillis(od.required("maxEjectionMs").asLong()),
                od.required("maxEjectionPercent").asInt());
        JsonNode l = n.path("limits");
        Limits limits = l.isMissingNode() ? Limits.DEFAULTS : new Limits(l.required("retries").asInt(), l.required("maxRequests").asInt());
        // Written before backends were verified: such a pool gets the default, verified, as a new
        // one does. Decoding it as "not verified" instead would split the replicas: a node that
        // replays the log from the start gets the default pool of the empty topology (verified),
        // one that loads a snapshot would not, for the same pool.
        JsonNode t = n.path("tls");
        BackendTls tls = t.isMissingNode() ? BackendTls.DEFAULTS : new BackendTls(t.path("verify").asBoolean(true),
                t.hasNonNull("ca") ? t.get("ca").asText() : null, t.hasNonNull("serverName") ? t.get("serverName").asText() : null);
        // Written before pools had a protocol: every pool then spoke HTTP/1.1. A name this version does not
        // know fails the entry as corrupt, as an unknown policy does, rather than guessing.
        BackendProtocol protocol = n.hasNonNull("protocol") ? BackendProtocol.valueOf(n.get("protocol").asText()) : BackendProtocol.HTTP1;
        return new PoolSettings(policy, health, outlier, limits, tls, protocol);
    }

    private static void putMillis(ObjectNode n, String name, Duration d) {
        if (d != null) {
            n.put(name + "Ms", d.toMillis());
        }
    }

    private static void putInt(ObjectNode n, String name, Integer v) {
        if (v != null) {
            n.put(name, v);
        }
    }

    private static Duration millis(JsonNode n, String name) {
        JsonNode v = n.get(name + "Ms");
        return v == null || v.isNull() ? null : Duration.ofMillis(v.asLong());
    }

    private static Integer integer(JsonNode n, String name) {
        JsonNode v = n.get(name);
        return v == null || v.isNull() ? null : v.asInt();
    }
}
