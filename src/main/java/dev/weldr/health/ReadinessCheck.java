package dev.weldr.health;

import dev.weldr.cluster.Leadership;
import dev.weldr.config.HaMode;
import dev.weldr.config.WeldrConfig;
import dev.weldr.proxy.ProxyServer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready when this node should receive traffic: its proxy listens and, in active-passive mode,
 * it is the leader (in active-active mode, it knows a leader). Kubernetes sends traffic only to
 * ready pods, so in active-passive mode only the leader gets it.
 */
@Readiness
@ApplicationScoped
public class ReadinessCheck implements HealthCheck {

    @Inject
    Leadership leadership;
    @Inject
    ProxyServer proxy;
    @Inject
    WeldrConfig config;

    @Override
    public HealthCheckResponse call() {
        HaMode mode = config.ha().mode();
        boolean roleOk = mode == HaMode.ACTIVE_PASSIVE ? leadership.isLeader() : leadership.leaderId() != null;
        String leader = leadership.leaderId();
        return HealthCheckResponse.named("weldr")
                .status(roleOk && proxy.listening())
                .withData("role", leadership.role().name().toLowerCase())
                .withData("leader", leader == null ? "" : leader)
                .withData("mode", mode.name().toLowerCase().replace('_', '-'))
                .withData("proxy", proxy.listening())
                .build();
    }
}
