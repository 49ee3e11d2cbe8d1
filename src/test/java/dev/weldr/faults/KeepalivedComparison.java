package dev.weldr.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Debian's keepalived on the same lab hosts, for the figures beside weldr's: VRRP with
 * {@code advert_int 1}, equal priorities, {@code nopreempt} (a restarted router does not take the
 * VIP back), a periodic gratuitous ARP. Each host runs a service of its own on port 8001 behind the
 * VIP (the proxy that keepalived would front), and the client probes {@code VIP:8001} as it probes
 * weldr's proxy. As with weldr, whose proxy and VIP manager are one process, kill -9 of the MASTER
 * kills its keepalived (the VRRP process first, then its parent, so that nothing of it cleans up)
 * and its service; the graceful case stops only keepalived (SIGTERM), as an operator would.
 */
final class KeepalivedComparison implements AutoCloseable {

    record Round(String fault, long gapMs, int failed, VipSampler.Summary vip) {
    }

    private final Lab lab;
    private final Agent agent;
    private final List<Lab.Host> hosts;
    static final int SERVICE_PORT = 8001;
    private final Map<Lab.Host, Process> running = new HashMap<>();
    private final Map<Lab.Host, Process> services = new HashMap<>();
    private final VipSampler sampler;
    private final WeldrLab.Settings settings;

    KeepalivedComparison(Lab lab, Agent agent, List<Lab.Host> hosts, WeldrLab.Settings settings) {
        this.lab = lab;
        this.agent = agent;
        this.hosts = hosts;
        this.settings = settings;
        this.sampler = new VipSampler(lab.hosts, h -> Optional.ofNullable(running.get(h)).map(Process::isAlive).orElse(false),
                settings.samplerMs());
    }

    private Path conf(Lab.Host h) {
        Path conf = lab.dir.resolve("keepalived-" + h.name + ".conf");
        String text = """
                global_defs {
                  router_id %s
                  vrrp_garp_master_refresh 5
                  enable_script_security
                }
                vrrp_instance lab {
                  state BACKUP
                  interface eth0
                  virtual_router_id 77
                  priority 100
                  advert_int 1
                  nopreempt
                  virtual_ipaddress {
                    %s dev eth0
                  }
                }
                """.formatted(h.name, Lab.VIP_CIDR);
        try {
            Files.writeString(conf, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return conf;
    }

    private void start(Lab.Host h) {
        Path dir = lab.dir;
        Process p = lab.spawn(h, List.of("keepalived", "--dont-fork", "--log-console", "--log-detail", "--vrrp",
                        "--use-file=" + conf(h), "--pid=" + dir.resolve("keepalived-" + h.name + ".pid"),
                        "--vrrp_pid=" + vrrpPid(h)),
                dir.resolve("keepalived-" + h.name + ".log"));
        running.put(h, p);
    }

    private Path vrrpPid(Lab.Host h) {
        return lab.dir.resolve("keepalived-" + h.name + "-vrrp.pid");
    }

    private void startService(Lab.Host h) {
        services.put(h, lab.spawn(h, List.of(WeldrLab.java(), "-Xmx24m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss256k",
                        "-cp", Path.of("target", "test-classes").toAbsolutePath().toString(), LabBackend.class.getName(),
                        "0.0.0.0", "service-" + h.name, Integer.toString(SERVICE_PORT)),
                lab.dir.resolve("keepalived-service-" + h.name + ".log")));
    }

    /** SIGKILL of the VRRP process (the one that holds the VIP), then of its parent, and of the host's service. */
    private void kill(Lab.Host h) {
        Process service = services.get(h);
        service.destroyForcibly();
        waitFor(service);
        try {
            long child = Long.parseLong(Files.readString(vrrpPid(h)).trim());
            ProcessHandle.of(child).filter(c -> c.parent().map(pp -> pp.pid() == running.get(h).pid()).orElse(false))
                    .ifPresent(ProcessHandle::destroyForcibly);
        } catch (IOException | NumberFormatException e) {
            // no VRRP process: the parent alone
        }
        Process p = running.get(h);
        p.destroyForcibly();
        waitFor(p);
    }

    private void stop(Lab.Host h) {
        Process p = running.get(h);
        p.destroy();
        waitFor(p);
    }

    private static void waitFor(Process p) {
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Lab.Host awaitOneHolder() {
        Lab.Host[] master = new Lab.Host[1];
        WeldrLab.await(Duration.ofSeconds(60), () -> {
            List<Lab.Host> holders = sampler.holdersNow();
            long now = System.currentTimeMillis();
            List<Agent.Probe> recent = agent.probes(now - 1000, now);
            boolean served = recent.size() >= 10 && recent.stream().allMatch(Agent.Probe::ok);
            master[0] = holders.size() == 1 ? holders.get(0) : null;
            return master[0] != null && served;
        }, "one keepalived MASTER with the VIP and the client served");
        return master[0];
    }

    /** {@code runs} rounds of kill -9 of the MASTER and {@code runs} of SIGTERM, alternating. */
    List<Round> run(int runs) {
        hosts.forEach(this::startService);
        agent.startProbes("http://" + Lab.VIP + ":" + SERVICE_PORT + "/", settings.probeIntervalMs(), settings.probeTimeoutMs());
        hosts.forEach(this::start);
        List<Round> rounds = new ArrayList<>();
        for (int i = 0; i < 2 * runs; i++) {
            boolean killing = i % 2 == 0;
            Lab.Host master = awaitOneHolder();
            WeldrLab.sleep(1000);
            long at = System.currentTimeMillis();
            if (killing) {
                kill(master);
            } else {
                stop(master);
            }
            long since = at;
            WeldrLab.await(Duration.ofSeconds(60), () -> agent.probes(since, System.currentTimeMillis()).stream()
                    .anyMatch(p -> p.ok() && p.start() > since), "the client to be served again");
            WeldrLab.sleep(2000);
            long end = System.currentTimeMillis();
            List<Agent.Probe> probes = agent.probes(at - 2000, end);
            Round r = new Round(killing ? "kill -9 of the MASTER" : "SIGTERM of the MASTER",
                    ScenarioRun.gapAfter(probes, at, 15_000), (int) probes.stream().filter(p -> !p.ok()).count(),
                    sampler.summary(at - 2000, end));
            rounds.add(r);
            System.out.printf("[faults] keepalived %s (%s): client gap %s, %d failed; VIP: %s%n", r.fault(), master,
                    ScenarioRun.secs(r.gapMs()), r.failed(), r.vip());
            if (!services.get(master).isAlive()) {
                startService(master);
            }
            start(master);
            WeldrLab.sleep(3000);
        }
        return rounds;
    }

    @Override
    public void close() {
        sampler.close();
        running.values().forEach(p -> {
            if (p.isAlive()) {
                p.destroy();
                waitFor(p);
            }
        });
        services.values().forEach(p -> {
            p.destroyForcibly();
            waitFor(p);
        });
    }
}
