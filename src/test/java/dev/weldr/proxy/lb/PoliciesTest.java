package dev.weldr.proxy.lb;

import dev.weldr.pool.LbPolicy;
import dev.weldr.pool.LbPolicy.HashOn;
import dev.weldr.pool.LbPolicy.Kind;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

class PoliciesTest {

    private final List<TestEndpoint> servers = TestEndpoint.servers(4);

    @Test
    void shouldBuildTheBalancerOfEachKind() {
        assertInstanceOf(Rotation.class, Policies.factory(LbPolicy.ROUND_ROBIN).create(servers));
        assertInstanceOf(Rotation.class, build(new LbPolicy(Kind.WEIGHTED_ROUND_ROBIN, null, null)));
        servers.get(0).weight = 2;
        assertInstanceOf(RoundRobin.class, Policies.factory(LbPolicy.ROUND_ROBIN).create(servers));
        assertInstanceOf(RoundRobin.class, build(new LbPolicy(Kind.WEIGHTED_ROUND_ROBIN, null, null)));
        servers.get(0).weight = 1;
        assertInstanceOf(LeastRequests.class, build(new LbPolicy(Kind.LEAST_REQUESTS, null, null)));
        assertInstanceOf(ConsistentHash.class, build(new LbPolicy(Kind.CONSISTENT_HASH, HashOn.CLIENT_ADDRESS, null)));
    }

    @Test
    void shouldHashOnTheCookieThePolicyNames() {
        LoadBalancer<TestEndpoint> lb = build(new LbPolicy(Kind.CONSISTENT_HASH, HashOn.COOKIE, "session"));

        TestEndpoint a = lb.pick(TestRequest.from("192.0.2.1").withCookie("session", "abc"), null);
        TestEndpoint b = lb.pick(TestRequest.from("192.0.2.99").withCookie("session", "abc"), null);
        assertSame(a, b);
        TestEndpoint retry = lb.pick(TestRequest.from("192.0.2.1").withCookie("session", "abc"), a);
        assertNotSame(a, retry);
    }

    private LoadBalancer<TestEndpoint> build(LbPolicy policy) {
        return Policies.factory(policy).create(servers);
    }
}
