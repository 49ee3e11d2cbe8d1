package dev.weldr.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weldr.acme.AcmeNames;
import dev.weldr.acme.AcmeOrders;
import dev.weldr.cluster.PoolService;
import dev.weldr.pool.Actor;
import dev.weldr.pool.Certificate;
import dev.weldr.pool.ManagedCertificate;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.Topology;
import dev.weldr.tls.CertificateBundle;
import dev.weldr.tls.CertificateName;
import dev.weldr.tls.CertificateStore;
import dev.weldr.tls.InvalidCertificateException;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;

/**
 * The certificates of the HTTPS listener, replicated like the pool: every node serves them.
 * A certificate is checked here, on the node that proposes it, and stored only if it is
 * servable; its private key is never shown, and is sealed with {@code weldr.tls.store-key}
 * when that is set.
 */
@Path("/certificates")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "certificates", description = "Certificates the HTTPS listener serves, chosen by the client's server name (SNI)")
public class CertificatesResource {

    private static final Set<String> FIELDS = Set.of("chain", "key", "acme");

    @Inject
    PoolService service;
    @Inject
    LeaderRoute route;
    @Inject
    CertificateStore store;
    @Inject
    AcmeOrders acme;

    /**
     * A certificate as shown: {@code source} is {@code upload} or {@code acme}; for a managed one,
     * {@code acme} says where its order stands, and the other fields describe the certificate
     * issued last (null before the first is).
     */
    public record CertificateView(String name, String source, List<String> names, String subject, String issuer, Instant notBefore,
                                  Instant notAfter, String fingerprint, String keyType, boolean served, AcmeView acme,
                                  List<Link> links) {
    }

    /**
     * A managed certificate's ACME side: the names asked for, {@code state} ({@code pending},
     * {@code valid}, {@code renewing}, {@code failed}), the order under way, the CA's last error
     * and when the next attempt is, and when renewal is due.
     */
    public record AcmeView(List<String> names, String state, String order, String error, int failures, Instant nextAttempt,
                           Instant renewAt) {
    }

    public record CertificateList(List<CertificateView> certificates) {
    }

    @GET
    @Operation(summary = "List the certificates (never their keys)")
    public CertificateList list() {
        Topology t = service.current();
        Set<String> names = new TreeSet<>(t.certificates().keySet());
        names.addAll(t.managed().keySet());
        List<CertificateView> views = new ArrayList<>();
        for (String name : names) {
            views.add(view(t, name));
        }
        return new CertificateList(views);
    }

    @GET
    @Path("/{name}")
    @Operation(summary = "One certificate: the names it covers, issuer, validity, SHA-256 fingerprint (never the key)")
    @APIResponse(responseCode = "404", description = "No such certificate")
    public CertificateView get(@PathParam("name") String name) {
        Topology t = service.current();
        if (!t.certificates().containsKey(name) && !t.managed().containsKey(name)) {
            throw new ApiException(404, "not_found", "certificate " + name + " does not exist");
        }
        return view(t, name);
    }

    @PUT
    @Path("/{name}")
    @Blocking
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Add or replace a certificate: {\"chain\": \"<PEM, leaf first>\", \"key\": \"<PEM private key>\"}."
            + " RSA of 2048 bits or more, or ECDSA P-256/P-384; PKCS#8, PKCS#1 or SEC1 keys. The next handshake on every node uses it."
            + " Or have weldr obtain and renew it through ACME: {\"acme\": {\"names\": [\"shop.example\", \"www.shop.example\"]}}"
            + " (needs weldr.acme.directory and weldr.acme.agree-tos=true); a certificate stored under that name is served until"
            + " the new one is issued.")
    @APIResponse(responseCode = "200", description = "The certificate as stored (without its key); for ACME, the same names as before: nothing changed")
    @APIResponse(responseCode = "202", description = "ACME: the certificate is to be ordered (state pending); GET it to follow")
    @APIResponse(responseCode = "409", description = "ACME asked for, but the leader has no ACME account settings")
    @APIResponse(responseCode = "400", description = "Bad JSON, bad PEM, a key that does not match the leaf, a chain out of order,"
            + " a leaf expired or not valid yet, or a name that is not a DNS name; nothing is stored")
    @APIResponse(responseCode = "413", description = "Body over 64 KiB")
    public CompletionStage<Response> put(@PathParam("name") String name, String body,
                                         @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                         @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        if (!CertificateName.valid(name)) {
            throw ApiException.badRequest(CertificateName.RULE);
        }
        return route.run(new LeaderRoute.Call("PUT", LeaderRoute.path("certificates", name), body, authorization, forwardedBy), actor -> {
            // Checked on the leader, which seals the key with its store key.
            JsonNode node = Bodies.object(body, "{\"chain\": \"-----BEGIN CERTIFICATE-----...\", \"key\": \"-----BEGIN PRIVATE KEY-----...\"}",
                    FIELDS, "a certificate has a chain and a key, or acme");
            if (node.has("acme")) {
                return putManaged(name, node, actor);
            }
            String chain = Bodies.text(node, "chain", true);
            String key = Bodies.text(node, "key", true);
            try {
                CertificateBundle.parse(chain, key, Instant.now());
            } catch (InvalidCertificateException e) {
                throw new ApiException(400, "invalid_certificate", e.getMessage());
            }
            Certificate c = new Certificate(name, chain, store.seal().seal(name, key));
            store.prepare(c);
            return service.submit(new PoolCommand.PutCertificate(c), actor)
                    .whenComplete((outcome, e) -> store.forget(c))
                    .thenApply(outcome -> Response.ok(view(outcome.topology(), name)).build());
        });
    }

    private CompletionStage<Response> putManaged(String name, JsonNode node, Actor actor) {
        if (node.has("chain") || node.has("key")) {
            throw ApiException.badRequest("a certificate has either a chain and a key (uploaded) or acme (managed), not both");
        }
        JsonNode spec = node.get("acme");
        if (!spec.isObject()) {
            throw ApiException.badRequest("acme: must be an object: {\"names\": [\"shop.example\"]}");
        }
        spec.fieldNames().forEachRemaining(f -> {
            if (!f.equals("names")) {
                throw ApiException.badRequest("acme." + f + ": unknown field; acme has names");
            }
        });
        JsonNode namesNode = spec.get("names");
        if (namesNode == null || !namesNode.isArray()) {
            throw ApiException.badRequest("acme.names: must be a list of DNS names");
        }
        if (namesNode.size() > 4 * AcmeNames.MAX) {
            throw ApiException.badRequest("acme.names: " + namesNode.size() + " names, more than the " + AcmeNames.MAX
                    + " a certificate may have");
        }
        List<String> requested = new ArrayList<>();
        for (JsonNode n : namesNode) {
            if (!n.isTextual()) {
                throw ApiException.badRequest("acme.names: must be a list of DNS names (strings), not " + n);
            }
            requested.add(n.asText());
        }
        List<String> names;
        try {
            names = AcmeNames.check(requested);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        String unusable = acme.unusable();
        if (unusable != null) {
            throw new ApiException(409, "acme_not_configured", "ACME is not set up on the leader: " + unusable);
        }
        return service.submit(new PoolCommand.PutManagedCertificate(ManagedCertificate.requested(name, names)), actor)
                .thenApply(outcome -> {
                    if (outcome.result() == Outcome.Result.TOO_MANY) {
                        throw new ApiException(400, "too_many", "a cluster manages at most " + Topology.MAX_MANAGED + " certificates");
                    }
                    int status = outcome.result() == Outcome.Result.APPLIED ? 202 : 200;
                    return Response.status(status).entity(view(outcome.topology(), name)).build();
                });
    }

    @DELETE
    @Path("/{name}")
    @Operation(summary = "Remove a certificate; the next handshake on every node goes without it")
    @APIResponse(responseCode = "204", description = "Removed")
    @APIResponse(responseCode = "404", description = "No such certificate")
    public CompletionStage<Response> delete(@PathParam("name") String name,
                                            @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                            @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        if (!CertificateName.valid(name)) {
            throw new ApiException(404, "not_found", "certificate " + name + " does not exist");
        }
        return route.run(new LeaderRoute.Call("DELETE", LeaderRoute.path("certificates", name), null, authorization, forwardedBy),
                actor -> service.submit(new PoolCommand.DeleteCertificate(name), actor).thenApply(outcome -> {
                    if (outcome.result() == Outcome.Result.NOT_FOUND) {
                        throw new ApiException(404, "not_found", "certificate " + name + " does not exist");
                    }
                    return Response.noContent().build();
                }));
    }

    private CertificateView view(Topology t, String name) {
        String href = "/certificates/" + name;
        List<Link> links = List.of(new Link("self", href, "GET"), new Link("replace", href, "PUT"), new Link("remove", href, "DELETE"));
        boolean served = store.table().served(name);
        ManagedCertificate m = t.managed().get(name);
        AcmeView acmeView = m == null ? null : new AcmeView(m.names(), m.state().name().toLowerCase(Locale.ROOT), m.order(), m.error(),
                m.failures(), m.nextAttempt() == 0 ? null : Instant.ofEpochMilli(m.nextAttempt()),
                m.renewAt() == 0 ? null : Instant.ofEpochMilli(m.renewAt()));
        String source = m == null ? "upload" : "acme";
        Certificate c = t.certificates().get(name);
        if (c != null) {
            try {
                CertificateBundle.Info i = CertificateBundle.describe(c.chain());
                return new CertificateView(name, source, i.names(), i.subject(), i.issuer(), i.notBefore(), i.notAfter(),
                        i.fingerprint(), i.keyType(), served, acmeView, links);
            } catch (InvalidCertificateException e) {
                // Checked before it was stored: only a newer weldr's format could get here.
            }
        }
        return new CertificateView(name, source, m != null ? m.names() : List.of(), null, null, null, null, null, null, served,
                acmeView, links);
    }
}
