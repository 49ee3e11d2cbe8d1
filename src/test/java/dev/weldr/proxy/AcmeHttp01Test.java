package dev.weldr.proxy;

import dev.weldr.cluster.PoolService;
import dev.weldr.pool.AcmeChallenge;
import dev.weldr.pool.ManagedCertificate;
import dev.weldr.pool.PoolCommand;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The plain listener answers the HTTP-01 challenges of the cluster's ACME orders from the
 * replicated state, before routing: whatever the route says (a redirect to HTTPS, a pool with no
 * server), and only for tokens the cluster asked for. The test node has no ACME account, so the
 * order's state is committed here as the leader's worker would commit it; Pebble's own requests
 * are the ACME ITs'.
 */
@QuarkusTest
class AcmeHttp01Test extends ProxyTestBase {

    private static final List<String> NAMES = List.of("shop.example");

    @Inject
    PoolService service;

    @BeforeEach
    void orderUnderWay() throws Exception {
        emptyPool();
        given().contentType("application/json").body("{\"host\": \"shop.example\", \"pool\": \"default\", \"httpsRedirect\": true}")
                .put("/routes/shop").then().statusCode(200);
        commit(new PoolCommand.PutManagedCertificate(ManagedCertificate.requested("shop", NAMES)));
        commit(new PoolCommand.AcmeProgress(new ManagedCertificate("shop", NAMES, ManagedCertificate.State.PENDING,
                "https://ca.test/order/1", "key", List.of(new AcmeChallenge(AcmeChallenge.HTTP_01, "shop.example", "T0k-3n_x",
                "T0k-3n_x.thumbprint")), null, 0, 0, 0, service.current().managed().get("shop").generation()), null));
    }

    @AfterEach
    void cleanUp() {
        removeRoutesAndExtraPools();
        given().delete("/certificates/shop");
    }

    private void commit(PoolCommand command) throws Exception {
        service.submit(command).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void shouldAnswerTheChallengeBeforeTheRoutesRedirectAndWithNoServer() throws Exception {
        RawHttp client = connect();
        client.sendHead("GET /.well-known/acme-challenge/T0k-3n_x HTTP/1.1", "Host: shop.example");
        RawHttp.Response r = client.read(false);
        assertEquals(200, r.status());
        assertEquals("T0k-3n_x.thumbprint", r.text());
        client.sendHead("HEAD /.well-known/acme-challenge/T0k-3n_x HTTP/1.1", "Host: shop.example");
        assertEquals(200, client.read(true).status(), "the connection goes on after the answer");
    }

    @Test
    void shouldLetOtherTokensGoTheirUsualWay() throws Exception {
        RawHttp client = connect();
        client.sendHead("GET /.well-known/acme-challenge/unknown HTTP/1.1", "Host: shop.example");
        RawHttp.Response r = client.read(false);
        assertEquals(503, r.status(), "an unknown token goes to the pool (empty here), not redirected: " + r.text());
        client.sendHead("GET /.well-known/acme-challenge/T0k-3n_x/more HTTP/1.1", "Host: shop.example");
        assertEquals(503, client.read(false).status());
    }

    @Test
    void shouldStopAnsweringOnceTheCertificateIsRemoved() throws Exception {
        given().delete("/certificates/shop").then().statusCode(204);
        RawHttp client = connect();
        client.sendHead("GET /.well-known/acme-challenge/T0k-3n_x HTTP/1.1", "Host: shop.example");
        RawHttp.Response r = client.read(false);
        assertNotEquals(200, r.status(), r.text());
    }

    @Test
    void shouldCountManagedCertificatesByState() {
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("weldr_acme_certificates{state=\"pending\"} 1.0"), metrics);
        assertTrue(metrics.contains("weldr_acme_certificates{state=\"valid\"} 0.0"), metrics);
        assertTrue(metrics.contains("weldr_acme_orders_total{result=\"failed\"} 0.0"), metrics);
    }
}
