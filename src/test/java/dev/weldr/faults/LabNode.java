package dev.weldr.faults;

import dev.weldr.it.WeldrProcess;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A weldr node on a lab host: the packaged jar run with {@code ip netns exec}, listening on the
 * host's address (admin 8687 with a token, Raft 8688, proxy 8080 on every address, so on the VIP
 * when it holds it), the VIP on {@code eth0}. Stopped by its PID: SIGTERM or SIGKILL.
 */
public final class LabNode {

    public static final int ADMIN = 8687;
    public static final int RAFT = 8688;
    public static final int PROXY = 8080;
    public static final String TOKEN = "fault-lab-token";

    public final Lab.Host host;
    private final Lab lab;
    private final Path data;
    private final Map<String, String> props = new LinkedHashMap<>();
    private volatile Process process;
    private int starts;
    private static final java.util.concurrent.atomic.AtomicInteger SERIALS = new java.util.concurrent.atomic.AtomicInteger();
    private final int serial = SERIALS.incrementAndGet();
    private volatile boolean booted;
    private volatile long lookedAt;

    /** A node of the initial cluster ({@code peers}), or one that joins through {@code join} (an admin URL) when peers is null. */
    LabNode(Lab lab, Lab.Host host, String peers, String join, Map<String, String> settings) {
        this.lab = lab;
        this.host = host;
        this.data = lab.dir.resolve(host.name + "-data-" + System.nanoTime());
        props.put("quarkus.http.host", host.ip);
        props.put("quarkus.http.port", Integer.toString(ADMIN));
        props.put("weldr.admin.token", TOKEN);
        props.put("weldr.proxy.host", "0.0.0.0");
        props.put("weldr.proxy.port", Integer.toString(PROXY));
        props.put("weldr.raft.host", host.ip);
        props.put("weldr.raft.port", Integer.toString(RAFT));
        props.put("weldr.raft.data-dir", data.toString());
        if (peers != null) {
            props.put("weldr.raft.peers", peers);
        } else {
            props.put("weldr.raft.join", join);
        }
        props.put("weldr.vip.address", Lab.VIP_CIDR);
        props.put("weldr.vip.interface", "eth0");
        props.putAll(settings);
    }

    /** Leaves the VIP alone: for a node that is no member, which must never take the address. */
    LabNode withoutVip() {
        props.remove("weldr.vip.address");
        props.remove("weldr.vip.interface");
        return this;
    }

    /** The id of the Raft group this node's data belongs to (Raft messages name it; a node answers only its own). */
    String clusterId() {
        try {
            return Files.readString(data.resolve("cluster-id")).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Makes this node's (still empty) data belong to group {@code id}, as an attacker who read it off a peer list would. */
    LabNode claimClusterId(String id) {
        try {
            Files.createDirectories(data);
            Files.writeString(data.resolve("cluster-id"), id + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    public String raftId() {
        return host.ip + ":" + RAFT;
    }

    public String admin() {
        return "http://" + host.ip + ":" + ADMIN;
    }

    public String name() {
        return host.name;
    }

    /** Starts a process of this node (same data directory every time); does not wait for it. */
    public synchronized void start() {
        if (alive()) {
            throw new IllegalStateException(host + " is already running");
        }
        starts++;
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Small and quick to start: the lab runs up to six JVMs of weldr on two cores.
        cmd.addAll(List.of("-Xmx160m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k"));
        cmd.add("-Djava.io.tmpdir=" + Path.of("target", "tmp").toAbsolutePath());
        props.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-jar");
        cmd.add(WeldrProcess.jar().toAbsolutePath().toString());
        try {
            Files.createDirectories(Path.of("target", "tmp"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        booted = false;
        process = lab.spawn(host, cmd, log());
    }

    /**
     * True once this process has started (Quarkus logged "started in"): from then on it is weldr's
     * doing whether the host has the VIP. Before that, an address on the host is left over from an
     * earlier process (killed with SIGKILL) and nothing running claims it.
     */
    public boolean booted() {
        if (!alive()) {
            return false;
        }
        if (!booted && System.nanoTime() - lookedAt > 50_000_000L) {
            lookedAt = System.nanoTime();
            try {
                booted = Files.exists(log()) && Files.readString(log()).contains(") started in ");
            } catch (IOException | java.io.UncheckedIOException e) {
                return false;
            }
        }
        return booted && alive();
    }

    public Path log() {
        // A host can run several nodes over a lab's life (one removed, a new one joining later).
        return lab.dir.resolve(host.name + "-node" + serial + "-" + starts + ".log");
    }

    public boolean alive() {
        Process p = process;
        return p != null && p.isAlive();
    }

    public long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    /** SIGTERM, and waits for the process to end (SIGKILL after 30 s). Returns the exit code. */
    public int stop() {
        return end(false);
    }

    /** SIGKILL: no clean-up by weldr itself; the VIP guard it started removes the address if it held it. */
    public int kill() {
        return end(true);
    }

    /** Sends SIGKILL without waiting (to kill several nodes at the same instant). */
    public void killNow() {
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
        }
    }

    private int end(boolean force) {
        Process p = process;
        if (p == null) {
            return -1;
        }
        if (force) {
            p.destroyForcibly();
        } else {
            p.destroy();
        }
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                System.err.println("fault lab: " + host + " did not stop within 30 s of SIGTERM; killing it");
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return p.isAlive() ? -1 : p.exitValue();
    }

    /** Removes the node's data (for a host that will later run a new node). */
    void wipe() {
        if (alive()) {
            throw new IllegalStateException(host + " is running");
        }
        if (Files.exists(data)) {
            try (Stream<Path> files = Files.walk(data)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Override
    public String toString() {
        return host.name;
    }
}
