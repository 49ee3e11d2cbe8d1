package dev.weldr.proxy;

import dev.weldr.pool.BackendProtocol;
import dev.weldr.pool.BackendTls;
import dev.weldr.pool.HealthCheckSpec;
import dev.weldr.pool.LbPolicy;
import dev.weldr.pool.Limits;
import dev.weldr.pool.OutlierSpec;
import dev.weldr.pool.Pool;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Route;
import dev.weldr.pool.Server;
import dev.weldr.pool.Topology;
import io.netty.handler.codec.http.FullHttpRequest;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The warm-up's copy of the cluster: its routes and pools, with no server but the sink. */
class WarmUpTest {

    private static final Server SINK = new Server("http", "127.0.0.1", 40000, Server.DEFAULT_WEIGHT, false);

    @Test
    void shouldKeepTheRoutesAndPoliciesButNoServerOtherThanTheSink() {
        PoolSettings h2Tls = new PoolSettings(new LbPolicy(LbPolicy.Kind.LEAST_REQUESTS, null, null), HealthCheckSpec.DEFAULTS, OutlierSpec.DEFAULTS, Limits.DEFAULTS,
                new BackendTls(false, null, "api.internal"), BackendProtocol.H2);
        Topology real = Topology.of(7, List.of(
                        Pool.of(Pool.DEFAULT, PoolSettings.DEFAULTS, List.of(new Server("http", "10.0.0.1", 80, 1, false))),
                        Pool.of("api", h2Tls, List.of(new Server("https", "10.0.0.2", 443, 3, false), new Server("https", "10.0.0.3", 443, 1, true)))),
                List.of(new Route("api", "api.example.com", "/v1", "api")), Map.of());

        Topology shadow = WarmUp.shadow(real, SINK);

        assertEquals(real.routes(), shadow.routes());
        assertEquals(2, shadow.pools().size());
        for (Pool pool : shadow.pools()) {
            assertEquals(List.of(SINK), List.copyOf(pool.servers()), pool.name());
            assertEquals(BackendProtocol.HTTP1, pool.settings().protocol(), pool.name());
            assertFalse(pool.settings().outlier().enabled(), "the sink is never ejected: " + pool.name());
            assertEquals(real.pool(pool.name()).settings().policy(), pool.settings().policy(), pool.name());
        }
    }

    @Test
    void shouldSendARequestThatEachRouteTakesAndOneThatNoneTakes() {
        List<FullHttpRequest> requests = WarmUp.requests(List.of(
                new Route("a", "api.example.com", "/v1", "api"), new Route("b", "*.example.org", "/", "web"), new Route("c", "", "/img", "web")));
        List<String> seen = requests.stream().map(r -> r.method() + " " + r.headers().get("host") + r.uri()).toList();
        assertEquals(List.of("GET warm-up.invalid/", "POST warm-up.invalid/", "GET api.example.com/v1", "GET warm-up.example.org/",
                "GET warm-up.invalid/img"), seen);
        assertEquals("1024", requests.get(1).headers().get("content-length"));
        requests.forEach(FullHttpRequest::release);
    }
}
