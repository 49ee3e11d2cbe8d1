package dev.weldr.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weldr.cluster.PoolService;
import dev.weldr.pool.Certificate;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.PoolCommand;
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
import java.util.Set;
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

    private static final Set<String> FIELDS = Set.of("chain", "key");

    @Inject
    PoolService service;
    @Inject
    LeaderRoute route;
    @Inject
    CertificateStore store;

    public record CertificateView(String name, List<String> names, String subject, String issuer, Instant notBefore,
                                  Instant notAfter, String fingerprint, String keyType, boolean served, List<Link> links) {
    }

    public record CertificateList(List<CertificateView> certificates) {
    }

    @GET
    @Operation(summary = "List the certificates (never their keys)")
    public CertificateList list() {
        List<CertificateView> views = new ArrayList<>();
        for (Certificate c : service.current().certificates().values()) {
            views.add(view(c));
        }
        return new CertificateList(views);
    }

    @GET
    @Path("/{name}")
    @Operation(summary = "One certificate: the names it covers, issuer, validity, SHA-256 fingerprint (never the key)")
    @APIResponse(responseCode = "404", description = "No such certificate")
    public CertificateView get(@PathParam("name") String name) {
        Certificate c = service.current().certificates().get(name);
        if (c == null) {
            throw new ApiException(404, "not_found", "certificate " + name + " does not exist");
        }
        return view(c);
    }

    @PUT
    @Path("/{name}")
    @Blocking
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Add or replace a certificate: {\"chain\": \"<PEM, leaf first>\", \"key\": \"<PEM private key>\"}."
            + " RSA of 2048 bits or more, or ECDSA P-256/P-384; PKCS#8, PKCS#1 or SEC1 keys. The next handshake on every node uses it.")
    @APIResponse(responseCode = "200", description = "The certificate as stored (without its key)")
    @APIResponse(responseCode = "400", description = "Bad JSON, bad PEM, a key that does not match the leaf, a chain out of order,"
            + " a leaf expired or not valid yet, or a name that is not a DNS name; nothing is stored")
    @APIResponse(responseCode = "413", description = "Body over 64 KiB")
    public CompletionStage<Response> put(@PathParam("name") String name, String body,
                                         @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                         @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        if (!CertificateName.valid(name)) {
            throw ApiException.badRequest(CertificateName.RULE);
        }
        return route.run(new LeaderRoute.Call("PUT", LeaderRoute.path("certificates", name), body, authorization, forwardedBy), () -> {
            // Checked on the leader, which seals the key with its store key.
            JsonNode node = Bodies.object(body, "{\"chain\": \"-----BEGIN CERTIFICATE-----...\", \"key\": \"-----BEGIN PRIVATE KEY-----...\"}",
                    FIELDS, "a certificate has a chain and a key");
            String chain = Bodies.text(node, "chain", true);
            String key = Bodies.text(node, "key", true);
            try {
                CertificateBundle.parse(chain, key, Instant.now());
            } catch (InvalidCertificateException e) {
                throw new ApiException(400, "invalid_certificate", e.getMessage());
            }
            Certificate c = new Certificate(name, chain, store.seal().seal(name, key));
            store.prepare(c);
            return service.submit(new PoolCommand.PutCertificate(c))
                    .whenComplete((outcome, e) -> store.forget(c))
                    .thenApply(outcome -> Response.ok(view(c)).build());
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
                () -> service.submit(new PoolCommand.DeleteCertificate(name)).thenApply(outcome -> {
                    if (outcome.result() == Outcome.Result.NOT_FOUND) {
                        throw new ApiException(404, "not_found", "certificate " + name + " does not exist");
                    }
                    return Response.noContent().build();
                }));
    }

    private CertificateView view(Certificate c) {
        String href = "/certificates/" + c.name();
        List<Link> links = List.of(new Link("self", href, "GET"), new Link("replace", href, "PUT"), new Link("remove", href, "DELETE"));
        boolean served = store.table().served(c.name());
        try {
            CertificateBundle.Info i = CertificateBundle.describe(c.chain());
            return new CertificateView(c.name(), i.names(), i.subject(), i.issuer(), i.notBefore(), i.notAfter(),
                    i.fingerprint(), i.keyType(), served, links);
        } catch (InvalidCertificateException e) {
            // Checked before it was stored: only a newer weldr's format could get here.
            return new CertificateView(c.name(), List.of(), null, null, null, null, null, null, served, links);
        }
    }
}
