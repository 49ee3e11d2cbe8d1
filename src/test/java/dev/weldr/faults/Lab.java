package dev.weldr.faults;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * Hosts on one Ethernet segment, on one machine: each host is a network namespace with one veth
 * ({@code eth0}) whose other end is a port of a bridge that lives in a namespace of its own; the
 * bridge namespace's nftables (bridge family, forward hook, keyed by port) cuts hosts off,
 * partitions them, or drops a share of their frames. Addresses are 10.77.0.0/24: hosts n1..nK are
 * 10.77.0.11.., the client host is 10.77.0.2, and 10.77.0.100 is the virtual IP.
 *
 * <p>Nothing of the lab is reachable from the root namespace and nothing in it reaches out: every
 * program that talks to a lab address runs inside a lab namespace. The lab remembers every
 * namespace and process it made and removes them on {@link #close()} (also from a shutdown hook):
 * processes by PID, then namespaces by name. A lab left behind by a test JVM that died is removed
 * when the next lab starts; its namespaces are named after the PID of the JVM that made them.
 */
public final class Lab implements AutoCloseable {

    public static final String VIP = "10.77.0.100";
    public static final String VIP_CIDR = VIP + "/24";
    static final String PREFIX = "weldrlab-";
    static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final AtomicInteger LABS = new AtomicInteger();
    /** In /proc/PID/net/fib_trie, an address of the namespace shows as a leaf with a "/32 host LOCAL" route. */
    private static final java.util.regex.Pattern VIP_LOCAL = java.util.regex.Pattern.compile(
            "\\|-- " + VIP.replace(".", "\\.") + "\\n(?: +/[^\\n]*\\n)*? +/32 host LOCAL");

    /** One lab host: its namespace, address, the bridge port its veth is plugged into, and a process that pins it. */
    public final class Host {
        public final String name;
        public final String ns;
        public final String ip;
        final String port;
        private Process pin;

        Host(String name, String ip) {
            this.name = name;
            this.ns = id + "-" + name;
            this.ip = ip;
            this.port = "p" + name;
        }

        /** True when the virtual IP is configured on this host (read from the kernel's local routes). */
        public boolean holdsVip() {
            try {
                return VIP_LOCAL.matcher(Files.readString(Path.of("/proc", Long.toString(pin.pid()), "net", "fib_trie"))).find();
            } catch (IOException e) {
                return false;
            }
        }

        @Override
        public String toString() {
            return name;
        }
    }

    public final String id;
    public final Path dir;
    public final List<Host> hosts = new ArrayList<>();
    public final Host client;
    private final String bridgeNs;
    private final List<String> namespaces = new CopyOnWriteArrayList<>();
    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private final Thread hook = new Thread(this::close, "lab-teardown");
    private volatile boolean closed;

    /** Skips the calling test, saying why, unless this machine can run a lab; installs the Debian packages it needs. */
    public static void assumeLabPossible(String... extraPackages) {
        Assumptions.assumeTrue(System.getProperty("os.name", "").toLowerCase().contains("linux"),
                "the fault lab needs Linux network namespaces");
        String uid = sh("id", "-u").trim();
        Assumptions.assumeTrue(uid.equals("0"),
                "the fault lab needs root (network namespaces, a bridge, nftables); running as uid " + uid + ", skipped");
        List<String> missing = new ArrayList<>();
        if (!onPath("ip")) {
            missing.add("iproute2");
        }
        if (!onPath("nft")) {
            missing.add("nftables");
        }
        if (!onPath("arping")) {
            missing.add("iputils-arping");
        }
        for (String p : extraPackages) {
            String tool = p.equals("keepalived") ? "keepalived" : p;
            if (!onPath(tool)) {
                missing.add(p);
            }
        }
        if (!missing.isEmpty()) {
            System.out.println("fault lab: installing " + missing);
            List<String> cmd = new ArrayList<>(List.of("apt-get", "install", "-y", "--no-install-recommends"));
            cmd.addAll(missing);
            Result r = run(cmd, 600);
            if (r.code != 0) {
                run(List.of("apt-get", "update"), 600);
                r = run(cmd, 600);
            }
            Assumptions.assumeTrue(r.code == 0, "the fault lab needs " + missing + " and apt-get could not install them: " + r.out);
        }
        String probe = PREFIX + "probe-" + ProcessHandle.current().pid();
        Result add = run(List.of("ip", "netns", "add", probe), 30);
        run(List.of("ip", "netns", "del", probe), 30);
        Assumptions.assumeTrue(add.code == 0, "the fault lab needs `ip netns add` to work: " + add.out);
    }

    private static boolean onPath(String tool) {
        for (String d : PATH.split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    /** A lab of {@code n} hosts and a client host on one bridge. */
    public static Lab create(int n, Path base) {
        removeAbandonedLabs();
        return new Lab(n, base);
    }

    private Lab(int n, Path base) {
        id = PREFIX + ProcessHandle.current().pid() + "-" + LABS.incrementAndGet();
        dir = base.resolve(id).toAbsolutePath();
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Files.createDirectories(dir);
            bridgeNs = id + "-br";
            netns(bridgeNs);
            ipn(bridgeNs, "link", "set", "lo", "up");
            ipn(bridgeNs, "link", "add", "br0", "type", "bridge", "forward_delay", "0");
            ipn(bridgeNs, "link", "set", "br0", "up");
            nft("table bridge lab {\n  chain faults { type filter hook forward priority 0; policy accept; }\n}\n");
            for (int i = 1; i <= n; i++) {
                hosts.add(plug(new Host("n" + i, "10.77.0." + (10 + i))));
            }
            client = plug(new Host("c", "10.77.0.2"));
        } catch (RuntimeException | IOException e) {
            close();
            throw e instanceof RuntimeException r ? r : new UncheckedIOException((IOException) e);
        }
    }

    private Host plug(Host h) {
        netns(h.ns);
        ipn(bridgeNs, "link", "add", h.port, "type", "veth", "peer", "name", "eth0", "netns", h.ns);
        ipn(bridgeNs, "link", "set", h.port, "master", "br0", "up");
        ipn(h.ns, "link", "set", "lo", "up");
        ipn(h.ns, "addr", "add", h.ip + "/24", "dev", "eth0");
        ipn(h.ns, "link", "set", "eth0", "up");
        h.pin = spawn(h, List.of("sleep", "infinity"), dir.resolve(h.name + "-pin.log"));
        return h;
    }

    private void netns(String name) {
        check(run(List.of("ip", "netns", "add", name), 30), "ip netns add " + name);
        namespaces.add(name);
    }

    private static void ipn(String ns, String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip", "-n", ns));
        cmd.addAll(List.of(args));
        check(run(cmd, 30), String.join(" ", cmd));
    }

    // ---- Processes -------------------------------------------------------------------------------

    /** Starts {@code argv} inside a host's namespace, output appended to {@code log}; the lab kills it at the end. */
    public Process spawn(Host host, List<String> argv, Path log) {
        return spawn(host, argv, log, Map.of(), false);
    }

    /** As {@link #spawn(Host, List, Path)}; with {@code pipes}, stdin and stdout stay connected to the caller. */
    public Process spawn(Host host, List<String> argv, Path log, Map<String, String> env, boolean pipes) {
        if (closed) {
            throw new IllegalStateException("the lab is closed");
        }
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", host.ns));
        cmd.addAll(argv);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("PATH", PATH);
        pb.environment().putAll(env);
        pb.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        if (!pipes) {
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        }
        try {
            // `ip netns exec` execs the program: the PID of this process is the program's own.
            Process p = pb.start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a short command inside a host's namespace and returns its output; fails on a non-zero exit. */
    public String exec(Host host, String... argv) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", host.ns));
        cmd.addAll(List.of(argv));
        Result r = run(cmd, 30);
        check(r, String.join(" ", cmd));
        return r.out;
    }

    // ---- Faults ----------------------------------------------------------------------------------

    /** Cuts a host off from every other host: no frame in or out of its port. */
    public void isolate(Host h) {
        nft("add rule bridge lab faults iifname \"" + h.port + "\" drop\n"
                + "add rule bridge lab faults oifname \"" + h.port + "\" drop\n");
    }

    /** No frame between a host of {@code a} and a host of {@code b}; frames inside each side, and to hosts in neither, pass. */
    public void partition(Collection<Host> a, Collection<Host> b) {
        String sa = a.stream().map(h -> "\"" + h.port + "\"").collect(Collectors.joining(", ", "{ ", " }"));
        String sb = b.stream().map(h -> "\"" + h.port + "\"").collect(Collectors.joining(", ", "{ ", " }"));
        nft("add rule bridge lab faults iifname " + sa + " oifname " + sb + " drop\n"
                + "add rule bridge lab faults iifname " + sb + " oifname " + sa + " drop\n");
    }

    /** Drops {@code percent} % of the frames into and out of a host's port, at random. */
    public void loss(Host h, int percent) {
        nft("add rule bridge lab faults iifname \"" + h.port + "\" numgen random mod 100 < " + percent + " drop\n"
                + "add rule bridge lab faults oifname \"" + h.port + "\" numgen random mod 100 < " + percent + " drop\n");
    }

    /** Removes every fault. */
    public void heal() {
        nft("flush chain bridge lab faults\n");
    }

    private void nft(String script) {
        check(runWithInput(List.of("ip", "netns", "exec", bridgeNs, "nft", "-f", "-"), script), "nft " + script);
    }

    // ---- Teardown --------------------------------------------------------------------------------

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // already shutting down: this is the hook
        }
        for (Process p : processes) {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        for (Process p : processes) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<String> reversed = new ArrayList<>(namespaces);
        java.util.Collections.reverse(reversed);
        for (String ns : reversed) {
            killLeftovers(ns);
            Result r = run(List.of("ip", "netns", "del", ns), 30);
            if (r.code != 0) {
                System.err.println("fault lab: could not remove namespace " + ns + ": " + r.out);
            }
        }
    }

    /**
     * Processes still in one of the lab's namespaces after the lab killed its own were started by
     * them (an {@code arping} of weldr's, keepalived's VRRP child): killed by PID.
     */
    private static void killLeftovers(String ns) {
        Result pids = run(List.of("ip", "netns", "pids", ns), 30);
        for (String line : pids.out.split("\\s+")) {
            if (!line.isBlank() && line.chars().allMatch(Character::isDigit)) {
                ProcessHandle.of(Long.parseLong(line)).ifPresent(p -> {
                    System.err.println("fault lab: killing leftover process " + p.pid() + " in " + ns + ": "
                            + p.info().commandLine().orElse("?"));
                    p.destroyForcibly();
                });
            }
        }
    }

    /** Labs whose JVM is gone (killed before it could clean up): their processes by PID, then their namespaces. */
    private static void removeAbandonedLabs() {
        Result list = run(List.of("ip", "netns", "list"), 30);
        for (String line : list.out.split("\n")) {
            String ns = line.split(" ")[0].trim();
            if (!ns.startsWith(PREFIX)) {
                continue;
            }
            String[] parts = ns.substring(PREFIX.length()).split("-");
            long owner;
            try {
                owner = Long.parseLong(parts[0]);
            } catch (NumberFormatException e) {
                continue;
            }
            if (ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false)) {
                continue;
            }
            System.err.println("fault lab: removing namespace " + ns + " left behind by process " + owner);
            killLeftovers(ns);
            run(List.of("ip", "netns", "del", ns), 30);
        }
    }

    // ---- Running commands ------------------------------------------------------------------------

    record Result(int code, String out) {
    }

    static Result run(List<String> cmd, int timeoutSeconds) {
        return runWithInput(cmd, null, timeoutSeconds);
    }

    private static Result runWithInput(List<String> cmd, String input) {
        return runWithInput(cmd, input, 30);
    }

    private static Result runWithInput(List<String> cmd, String input, int timeoutSeconds) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("PATH", PATH);
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            if (input == null) {
                pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            }
            Process p = pb.start();
            if (input != null) {
                try (var in = p.getOutputStream()) {
                    in.write(input.getBytes(StandardCharsets.UTF_8));
                }
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, out + " (timed out)");
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }

    private static String sh(String... cmd) {
        return run(List.of(cmd), 30).out;
    }

    private static void check(Result r, String what) {
        if (r.code != 0) {
            throw new IllegalStateException(what + " failed (" + r.code + "): " + r.out.trim());
        }
    }
}
