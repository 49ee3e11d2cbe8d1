package dev.weldr.packaging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weldr.config.HaMode;
import dev.weldr.config.WeldrConfig;
import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.smallrye.config.WithName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Kubernetes manifests in k8s/: every one is valid for its kind (strictly, with the fabric8
 * object model), and together they make a working weldr cluster: three members that find each
 * other by stable names, probes on the health endpoints, a proxy Service that follows readiness,
 * a restrictive security context, resources, and a disruption budget that keeps a quorum.
 */
class KubernetesManifestsTest {

    static final Path K8S = Path.of("k8s");
    static final String KUSTOMIZATION = "kustomization.yaml";

    private static Map<String, List<HasMetadata>> manifests;

    /**
     * Every manifest file of k8s/ but the kustomization, parsed strictly, by name. Not its
     * directories: those are optional kustomize parts (patches, others' kinds), checked rendered.
     */
    static synchronized Map<String, List<HasMetadata>> manifests() {
        if (manifests == null) {
            Map<String, List<HasMetadata>> read = new LinkedHashMap<>();
            try (Stream<Path> files = Files.walk(K8S, 1)) {
                for (Path file : files.filter(Files::isRegularFile)
                        .filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                        .sorted().toList()) {
                    String name = K8S.relativize(file).toString();
                    if (!name.equals(KUSTOMIZATION)) {
                        read.put(name, StrictManifests.parse(file.toString(), Files.readString(file)));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            manifests = read;
        }
        return manifests;
    }

    static <T extends HasMetadata> List<T> all(Class<T> type) {
        return manifests().values().stream().flatMap(List::stream).filter(type::isInstance).map(type::cast).toList();
    }

    static <T extends HasMetadata> T only(Class<T> type) {
        List<T> found = all(type);
        assertEquals(1, found.size(), "expected one " + type.getSimpleName() + " in k8s/, found " + found.size());
        return found.get(0);
    }

    static StatefulSet statefulSet() {
        return only(StatefulSet.class);
    }

    static PodSpec pod() {
        return statefulSet().getSpec().getTemplate().getSpec();
    }

    static Container weldr() {
        List<Container> containers = pod().getContainers();
        assertEquals(1, containers.size(), "one container per member");
        return containers.get(0);
    }

    static int containerPort(String name) {
        return weldr().getPorts().stream().filter(p -> name.equals(p.getName())).findFirst()
                .map(ContainerPort::getContainerPort)
                .orElseThrow(() -> new AssertionError("the weldr container has no port named " + name));
    }

    /** A Service's or a probe's port, resolved against the container's ports as kube-proxy and the kubelet do. */
    static int resolve(IntOrString port) {
        assertNotNull(port, "no port");
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return containerPort(port.getStrVal());
    }

    static boolean selectsWeldrPods(Map<String, String> selector) {
        Map<String, String> labels = statefulSet().getSpec().getTemplate().getMetadata().getLabels();
        return selector != null && !selector.isEmpty() && labels.entrySet().containsAll(selector.entrySet());
    }

    static Service serviceNamed(String name) {
        return all(Service.class).stream().filter(s -> s.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no Service named " + name + " in k8s/"));
    }

    static Service serviceTargeting(String portName, boolean headless) {
        List<Service> found = all(Service.class).stream()
                .filter(s -> "None".equals(s.getSpec().getClusterIP()) == headless)
                .filter(s -> s.getSpec().getPorts().stream().anyMatch(p -> resolve(p.getTargetPort()) == containerPort(portName)))
                .toList();
        assertEquals(1, found.size(), "expected one " + (headless ? "headless " : "") + "Service to the " + portName
                + " port, found " + found.stream().map(s -> s.getMetadata().getName()).toList());
        return found.get(0);
    }

    /** The container's environment in pod {@code podName}, as the kubelet builds it (envFrom, then env with $(VAR) expansion). */
    static Map<String, String> environment(String podName, String namespace) {
        Map<String, String> env = new LinkedHashMap<>();
        Container c = weldr();
        for (EnvFromSource from : c.getEnvFrom() == null ? List.<EnvFromSource>of() : c.getEnvFrom()) {
            assertNotNull(from.getConfigMapRef(), "envFrom only from ConfigMaps");
            ConfigMap map = all(ConfigMap.class).stream()
                    .filter(m -> m.getMetadata().getName().equals(from.getConfigMapRef().getName())).findFirst()
                    .orElseThrow(() -> new AssertionError("envFrom names ConfigMap " + from.getConfigMapRef().getName()
                            + ", which is not in k8s/"));
            String prefix = from.getPrefix() == null ? "" : from.getPrefix();
            map.getData().forEach((k, v) -> env.put(prefix + k, v));
        }
        for (EnvVar var : c.getEnv()) {
            env.put(var.getName(), var.getValueFrom() == null ? expand(var.getValue(), env)
                    : valueFrom(var.getName(), var.getValueFrom(), podName, namespace));
        }
        return env;
    }

    private static String valueFrom(String name, EnvVarSource source, String podName, String namespace) {
        if (source.getFieldRef() != null) {
            return switch (source.getFieldRef().getFieldPath()) {
                case "metadata.name" -> podName;
                case "metadata.namespace" -> namespace;
                default -> "<" + source.getFieldRef().getFieldPath() + ">";
            };
        }
        if (source.getSecretKeyRef() != null) {
            Secret secret = all(Secret.class).stream()
                    .filter(s -> s.getMetadata().getName().equals(source.getSecretKeyRef().getName())).findFirst()
                    .orElseThrow(() -> new AssertionError(name + " comes from Secret " + source.getSecretKeyRef().getName()
                            + ", which is not in k8s/"));
            return secretValue(secret, source.getSecretKeyRef().getKey());
        }
        if (source.getConfigMapKeyRef() != null) {
            ConfigMap map = all(ConfigMap.class).stream()
                    .filter(m -> m.getMetadata().getName().equals(source.getConfigMapKeyRef().getName())).findFirst()
                    .orElseThrow(() -> new AssertionError(name + " comes from a ConfigMap not in k8s/"));
            return map.getData().get(source.getConfigMapKeyRef().getKey());
        }
        return fail(name + ": unexpected valueFrom " + source);
    }

    static String secretValue(Secret secret, String key) {
        if (secret.getStringData() != null && secret.getStringData().containsKey(key)) {
            return secret.getStringData().get(key);
        }
        if (secret.getData() != null && secret.getData().containsKey(key)) {
            return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
        }
        return fail("Secret " + secret.getMetadata().getName() + " has no key " + key);
    }

    private static final Pattern REFERENCE = Pattern.compile("\\$\\$|\\$\\(([A-Za-z_][A-Za-z0-9_.-]*)\\)");

    /** Kubernetes' dependent environment variables: $(VAR) is replaced when VAR is defined before, $$ is $. */
    static String expand(String value, Map<String, String> defined) {
        if (value == null) {
            return "";
        }
        Matcher m = REFERENCE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String replacement = m.group(1) == null ? "$" : defined.getOrDefault(m.group(1), m.group());
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    // ---------------------------------------------------------------------------------------------

    @Test
    void everyManifestIsValidAndListedInTheKustomization() throws IOException {
        Map<String, List<HasMetadata>> read = manifests();
        assertFalse(read.isEmpty(), "no manifest in k8s/");
        JsonNode kustomization = StrictManifests.tree(KUSTOMIZATION, Files.readString(K8S.resolve(KUSTOMIZATION)));
        assertEquals("kustomize.config.k8s.io/v1beta1", kustomization.path("apiVersion").asText());
        assertEquals("Kustomization", kustomization.path("kind").asText());
        Set<String> listed = new TreeSet<>();
        kustomization.path("resources").forEach(r -> listed.add(r.asText()));
        assertEquals(new TreeSet<>(read.keySet()), listed, "k8s/kustomization.yaml must list exactly the manifests in k8s/");

        Set<String> names = new HashSet<>();
        for (HasMetadata r : read.values().stream().flatMap(List::stream).toList()) {
            assertTrue(names.add(r.getKind() + "/" + r.getMetadata().getName()), "defined twice: " + r.getKind() + "/" + r.getMetadata().getName());
            assertEquals("weldr", r.getMetadata().getLabels().get("app.kubernetes.io/name"),
                    r.getKind() + "/" + r.getMetadata().getName() + " has no app.kubernetes.io/name=weldr label");
        }
        for (Class<? extends HasMetadata> kind : List.of(StatefulSet.class, ConfigMap.class, Secret.class, PodDisruptionBudget.class,
                NetworkPolicy.class)) {
            assertEquals(1, all(kind).size(), "one " + kind.getSimpleName());
        }
        assertEquals(3, all(Service.class).size(), "three Services: Raft peers (headless), proxy, admin");
    }

    @Test
    void statefulSetRunsThreeMembersWithStableNamesAndADataVolume() {
        StatefulSet set = statefulSet();
        assertEquals(3, set.getSpec().getReplicas(), "three members: one may fail and a majority is left");
        assertTrue(selectsWeldrPods(set.getSpec().getSelector().getMatchLabels()), "the selector matches the pod template's labels");
        // A member is not ready before a leader is elected (active-passive: only the leader ever
        // is), and electing one needs two members: OrderedReady would never start weldr-1.
        assertEquals("Parallel", set.getSpec().getPodManagementPolicy());
        // A RollingUpdate waits for each updated pod to become ready, which a follower never does.
        assertEquals("OnDelete", set.getSpec().getUpdateStrategy().getType());

        List<PersistentVolumeClaim> claims = set.getSpec().getVolumeClaimTemplates();
        assertEquals(1, claims.size(), "one volume claim per member");
        PersistentVolumeClaim claim = claims.get(0);
        assertEquals(List.of("ReadWriteOnce"), claim.getSpec().getAccessModes());
        assertNotNull(claim.getSpec().getResources().getRequests().get("storage"), "the claim requests storage");
        String dataDir = environment("weldr-0", "ns").getOrDefault("WELDR_RAFT_DATA_DIR", "/data");
        VolumeMount data = mountHolding(dataDir);
        assertEquals(claim.getMetadata().getName(), data.getName(), "the data directory " + dataDir + " is on the claimed volume");
        assertEquals("/data", data.getMountPath(), "the image's data volume is /data");
        assertFalse(Boolean.TRUE.equals(data.getReadOnly()));
    }

    @Test
    void eachMemberIsNamedLikeItsPeerEntryAndPeersAreTheStatefulSetsStableNames() {
        StatefulSet set = statefulSet();
        String service = set.getSpec().getServiceName();
        Service headless = serviceNamed(service);
        assertEquals("None", headless.getSpec().getClusterIP(), "the StatefulSet's serviceName is the headless Service");

        int replicas = set.getSpec().getReplicas();
        int raftPort = containerPort("raft");
        String namespace = "some-namespace";
        List<String> peersSeenByFirst = null;
        for (int ordinal = 0; ordinal < replicas; ordinal++) {
            String podName = set.getMetadata().getName() + "-" + ordinal;
            Map<String, String> env = environment(podName, namespace);
            env.forEach((k, v) -> assertFalse(v.contains("$("), k + " refers to an undefined variable: " + v));
            String domain = env.get("CLUSTER_DOMAIN");
            assertNotNull(domain, "CLUSTER_DOMAIN is defined (configmap.yaml)");
            // The pod's stable DNS name, as Kubernetes gives it to a StatefulSet's pod under its headless Service.
            String stableName = podName + "." + service + "." + namespace + ".svc." + domain;

            assertEquals(stableName, env.get("WELDR_RAFT_HOST"), "the member's Raft host is its stable DNS name");
            assertEquals(raftPort, Integer.parseInt(env.getOrDefault("WELDR_RAFT_PORT", "8688")), "the Raft port is the container's raft port");
            List<String> peers = Arrays.stream(env.get("WELDR_RAFT_PEERS").split(",")).map(String::trim).toList();
            List<String> expected = IntStream.range(0, replicas)
                    .mapToObj(i -> set.getMetadata().getName() + "-" + i + "." + service + "." + namespace + ".svc." + domain + ":" + raftPort)
                    .toList();
            assertEquals(expected, peers, "the initial peers are the StatefulSet's pods, by their stable names");
            assertTrue(peers.contains(env.get("WELDR_RAFT_HOST") + ":" + raftPort), podName + "'s node id is in the peer list");
            if (peersSeenByFirst == null) {
                peersSeenByFirst = peers;
            }
            assertEquals(peersSeenByFirst, peers, "every member gets the same peer list");
            assertFalse(env.containsKey("WELDR_RAFT_JOIN"), "the initial members bootstrap; none joins");
        }
    }

    @Test
    void raftServiceIsHeadlessAndPublishesMembersThatAreNotReady() {
        Service raft = serviceNamed(statefulSet().getSpec().getServiceName());
        assertEquals("None", raft.getSpec().getClusterIP());
        // Followers are not ready in active-passive mode, and must still find each other.
        assertEquals(Boolean.TRUE, raft.getSpec().getPublishNotReadyAddresses());
        assertTrue(selectsWeldrPods(raft.getSpec().getSelector()));
        assertTrue(raft.getSpec().getPorts().stream().anyMatch(p -> resolve(p.getTargetPort()) == containerPort("raft")),
                "the headless Service has the Raft port");
    }

    @Test
    void proxyServiceSendsTrafficToReadyMembersOnly() {
        Service proxy = serviceTargeting("proxy", false);
        assertTrue(selectsWeldrPods(proxy.getSpec().getSelector()));
        assertNotEquals(Boolean.TRUE, proxy.getSpec().getPublishNotReadyAddresses(),
                "the proxy Service follows readiness: in active-passive mode only the leader gets traffic");
        assertEquals(8080, containerPort("proxy"), "weldr's proxy port (weldr.proxy.port)");
        assertFalse(environment("weldr-0", "ns").containsKey("WELDR_PROXY_PORT"), "the proxy port is the image's default");
    }

    @Test
    void proxyServiceAlsoCarriesHttpsToTheHttpsPort() {
        assertEquals(8443, containerPort("https"), "weldr's HTTPS port (weldr.proxy.tls-port)");
        assertFalse(environment("weldr-0", "ns").containsKey("WELDR_PROXY_TLS_PORT"), "the HTTPS port is the image's default");
        // The same Service as plain HTTP: it follows readiness the same way, so HTTPS reaches the leader too.
        Service https = serviceTargeting("https", false);
        assertEquals(serviceTargeting("proxy", false).getMetadata().getName(), https.getMetadata().getName());
        ServicePort port = https.getSpec().getPorts().stream()
                .filter(p -> resolve(p.getTargetPort()) == containerPort("https")).findFirst().orElseThrow();
        assertEquals("https", port.getName());
        assertEquals(443, port.getPort(), "clients use https://weldr.<namespace>.svc/ as they use http:// on 80");
    }

    @Test
    void adminServiceReachesTheAdminPort() {
        Service admin = serviceTargeting("admin", false);
        assertTrue(selectsWeldrPods(admin.getSpec().getSelector()));
        assertEquals(8687, containerPort("admin"), "weldr's admin port (quarkus.http.port)");
        ServicePort port = admin.getSpec().getPorts().get(0);
        assertEquals(8687, resolve(port.getTargetPort()));
    }

    @Test
    void probesUseTheHealthEndpointsOnTheAdminListener() {
        Container c = weldr();
        assertProbe(c.getLivenessProbe(), "/q/health/live", "liveness");
        assertProbe(c.getReadinessProbe(), "/q/health/ready", "readiness");
        if (c.getStartupProbe() != null) {
            assertProbe(c.getStartupProbe(), "/q/health/live", "startup");
        }
        // The kubelet probes the pod's IP: the admin listener must not be bound to loopback.
        Map<String, String> env = environment("weldr-0", "ns");
        String host = env.getOrDefault("QUARKUS_HTTP_HOST", "0.0.0.0 (the image's)");
        assertTrue(host.startsWith("0.0.0.0"), "the admin listener must listen on the pod's address, not " + host);
        assertFalse(env.containsKey("QUARKUS_HTTP_PORT"), "the admin port is the image's default");
    }

    private static void assertProbe(Probe probe, String path, String what) {
        assertNotNull(probe, "no " + what + " probe");
        assertNotNull(probe.getHttpGet(), what + " probe is an HTTP GET");
        assertEquals(path, probe.getHttpGet().getPath(), what + " probe path");
        assertEquals(containerPort("admin"), resolve(probe.getHttpGet().getPort()), what + " probe port is the admin port");
        assertTrue(probe.getHttpGet().getScheme() == null || probe.getHttpGet().getScheme().equals("HTTP"), what + " probe scheme");
    }

    // ---- NetworkPolicy ---------------------------------------------------------------------------

    /** The rules of {@code policy} that let TCP to the container port {@code portName} in (a rule without ports lets every port in). */
    static List<NetworkPolicyIngressRule> rulesAdmitting(NetworkPolicy policy, String portName) {
        int target = containerPort(portName);
        List<NetworkPolicyIngressRule> rules = policy.getSpec().getIngress() == null ? List.of() : policy.getSpec().getIngress();
        return rules.stream().filter(r -> r.getPorts() == null || r.getPorts().isEmpty()
                || r.getPorts().stream().anyMatch(p -> covers(p, target))).toList();
    }

    private static boolean covers(NetworkPolicyPort port, int target) {
        if (port.getProtocol() != null && !port.getProtocol().equals("TCP")) {
            return false;
        }
        if (port.getPort() == null) {
            return true;
        }
        int first = resolve(port.getPort());
        int last = port.getEndPort() == null ? first : port.getEndPort();
        return first <= target && target <= last;
    }

    /** Why a peer is more than "weldr's own pods, in this namespace"; null when it is just that. */
    static String notJustTheMembers(NetworkPolicyPeer peer) {
        if (peer.getIpBlock() != null) {
            return "an ipBlock " + peer.getIpBlock().getCidr();
        }
        if (peer.getNamespaceSelector() != null) {
            return "a namespaceSelector (pods of other namespaces)";
        }
        if (peer.getPodSelector() == null) {
            return "no selector";
        }
        if (peer.getPodSelector().getMatchExpressions() != null && !peer.getPodSelector().getMatchExpressions().isEmpty()) {
            return "matchExpressions " + peer.getPodSelector().getMatchExpressions();
        }
        if (!selectsWeldrPods(peer.getPodSelector().getMatchLabels())) {
            return "pods labelled " + peer.getPodSelector().getMatchLabels() + ", which weldr's are not all";
        }
        Map<String, String> labels = statefulSet().getSpec().getTemplate().getMetadata().getLabels();
        Map<String, String> selector = statefulSet().getSpec().getSelector().getMatchLabels();
        if (!peer.getPodSelector().getMatchLabels().entrySet().containsAll(selector.entrySet())) {
            return "pods labelled " + peer.getPodSelector().getMatchLabels() + ", not only the StatefulSet's " + selector
                    + " (its pods have " + labels + ")";
        }
        return null;
    }

    /** Everything that lets something other than weldr's own pods reach the Raft port. */
    static List<String> raftOpenings(NetworkPolicy policy) {
        List<String> problems = new ArrayList<>();
        if (policy.getSpec().getPolicyTypes() != null && !policy.getSpec().getPolicyTypes().isEmpty()
                && !policy.getSpec().getPolicyTypes().contains("Ingress")) {
            problems.add("the policy does not restrict ingress: policyTypes " + policy.getSpec().getPolicyTypes());
        }
        for (NetworkPolicyIngressRule rule : rulesAdmitting(policy, "raft")) {
            if (rule.getFrom() == null || rule.getFrom().isEmpty()) {
                problems.add("a rule admits the Raft port from anywhere: " + rule);
                continue;
            }
            for (NetworkPolicyPeer peer : rule.getFrom()) {
                String why = notJustTheMembers(peer);
                if (why != null) {
                    problems.add("a rule admits the Raft port from " + why);
                }
            }
        }
        return problems;
    }

    @Test
    void networkPolicyLetsOnlyTheMembersReachTheRaftPort() {
        NetworkPolicy policy = only(NetworkPolicy.class);
        assertTrue(selectsWeldrPods(policy.getSpec().getPodSelector().getMatchLabels()), "the policy applies to weldr's pods");
        assertTrue(policy.getSpec().getPodSelector().getMatchExpressions() == null
                || policy.getSpec().getPodSelector().getMatchExpressions().isEmpty());
        assertEquals(List.of("Ingress"), policy.getSpec().getPolicyTypes(),
                "ingress only: backends, ACME and DNS are reached wherever they are");
        assertEquals(List.of(), raftOpenings(policy));
        assertFalse(rulesAdmitting(policy, "raft").isEmpty(), "the members can reach each other's Raft port");
    }

    /** The check above finds the openings it is there for (else it would pass on any policy). */
    @Test
    void raftCheckFindsAPolicyThatOpensTheRaftPortToOthers() throws IOException {
        String yaml = Files.readString(K8S.resolve("networkpolicy.yaml"));
        String members = "        - podSelector:\n            matchLabels:\n              app.kubernetes.io/name: weldr\n";
        String raftRule = "    - from:\n" + members + "      ports:\n        - port: raft\n";
        assertTrue(yaml.contains(raftRule), "networkpolicy.yaml's Raft rule is written as this test expects");
        Map<String, String> opened = Map.of(
                "from anywhere", raftRule.replace("- from:\n" + members + "      ports:", "- ports:"),
                "a namespaceSelector", raftRule.replace(members, members + "          namespaceSelector: {}\n"),
                "an ipBlock", raftRule.replace(members, "        - ipBlock: {cidr: 0.0.0.0/0}\n" + members),
                "pods labelled otherwise", raftRule.replace("app.kubernetes.io/name: weldr", "app: other"),
                "no restriction of ingress", raftRule);
        opened.forEach((what, rule) -> {
            String changed = what.equals("no restriction of ingress")
                    ? yaml.replace("    - Ingress", "    - Egress")
                    : yaml.replace(raftRule, rule);
            assertNotEquals(yaml, changed, what);
            NetworkPolicy policy = (NetworkPolicy) StrictManifests.parse(what, changed).get(0);
            List<String> problems = raftOpenings(policy);
            assertFalse(problems.isEmpty(), what + ": not found in " + changed);
        });
    }

    @Test
    void networkPolicyLetsTheMembersAndChosenClientsReachTheAdminPortAndAnyoneTheProxy() {
        NetworkPolicy policy = only(NetworkPolicy.class);
        List<NetworkPolicyIngressRule> admin = rulesAdmitting(policy, "admin");
        assertTrue(admin.stream().flatMap(r -> r.getFrom() == null ? Stream.of((NetworkPolicyPeer) null) : r.getFrom().stream())
                        .anyMatch(p -> p != null && notJustTheMembers(p) == null),
                "followers forward writes to the leader's admin port, a joining member asks one: the members reach it");
        assertTrue(admin.stream().allMatch(r -> r.getFrom() != null && !r.getFrom().isEmpty()), "the admin port is not open to all");
        for (String port : List.of("proxy", "https")) {
            assertTrue(rulesAdmitting(policy, port).stream().anyMatch(r -> r.getFrom() == null || r.getFrom().isEmpty()),
                    "the " + port + " port is open to anyone");
        }
        // What the policy promises the operator in its comment and README: an admin client label.
        assertTrue(admin.stream().flatMap(r -> r.getFrom().stream())
                        .anyMatch(p -> p.getPodSelector() != null && p.getNamespaceSelector() == null
                                && "true".equals(p.getPodSelector().getMatchLabels().get("weldr.dev/admin-client"))),
                "pods of the namespace labelled weldr.dev/admin-client=true reach the admin port");
        assertTrue(admin.stream().flatMap(r -> r.getFrom().stream())
                        .anyMatch(p -> p.getPodSelector() == null && p.getNamespaceSelector() != null
                                && "true".equals(p.getNamespaceSelector().getMatchLabels().get("weldr.dev/admin-client"))),
                "namespaces labelled weldr.dev/admin-client=true reach the admin port");
    }

    @Test
    void adminTokenComesFromTheSecret() {
        EnvVar token = weldr().getEnv().stream().filter(e -> e.getName().equals("WELDR_ADMIN_TOKEN")).findFirst()
                .orElseThrow(() -> new AssertionError("WELDR_ADMIN_TOKEN is not set: weldr refuses to start on 0.0.0.0 without it"));
        assertNotNull(token.getValueFrom(), "the token is not written in the StatefulSet");
        assertNotNull(token.getValueFrom().getSecretKeyRef(), "the token comes from a Secret");
        assertNotEquals(Boolean.TRUE, token.getValueFrom().getSecretKeyRef().getOptional(), "the token is not optional");
        assertFalse(environment("weldr-0", "ns").get("WELDR_ADMIN_TOKEN").isBlank(), "the Secret holds a token");
        assertFalse(environment("weldr-0", "ns").containsKey("WELDR_ADMIN_INSECURE"));
    }

    @Test
    void securityContextIsRestrictive() {
        PodSpec pod = pod();
        PodSecurityContext podContext = pod.getSecurityContext();
        assertNotNull(podContext, "pod securityContext");
        assertEquals(Boolean.TRUE, podContext.getRunAsNonRoot());
        assertNotNull(podContext.getRunAsUser());
        assertTrue(podContext.getRunAsUser() > 0, "runAsUser is not root");
        assertNotNull(podContext.getFsGroup(), "fsGroup, so that the member can write its volume");
        assertEquals("RuntimeDefault", podContext.getSeccompProfile().getType());
        assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken(), "no Kubernetes API token in the pod");
        assertEquals(Boolean.FALSE, pod.getEnableServiceLinks(),
                "service links would inject WELDR_PORT, WELDR_ADMIN_PORT, ... (tcp://...) among weldr's WELDR_* keys");
        assertNotEquals(Boolean.TRUE, pod.getHostNetwork());

        SecurityContext context = weldr().getSecurityContext();
        assertNotNull(context, "container securityContext");
        assertEquals(Boolean.FALSE, context.getAllowPrivilegeEscalation());
        assertEquals(Boolean.TRUE, context.getReadOnlyRootFilesystem());
        assertNotEquals(Boolean.TRUE, context.getPrivileged());
        assertNotEquals(Boolean.FALSE, context.getRunAsNonRoot());
        assertTrue(context.getRunAsUser() == null || context.getRunAsUser() > 0);
        Capabilities capabilities = context.getCapabilities();
        assertNotNull(capabilities, "capabilities are dropped");
        assertEquals(List.of("ALL"), capabilities.getDrop());
        assertTrue(capabilities.getAdd() == null || capabilities.getAdd().isEmpty(), "no capability added");

        // With a read-only root, the JVM's temporary directory (RocksDB unpacks its native
        // library there at every start) must be on a writable volume.
        String javaOpts = environment("weldr-0", "ns").getOrDefault("JAVA_OPTS", "");
        Matcher tmp = Pattern.compile("-Djava\\.io\\.tmpdir=(\\S+)").matcher(javaOpts);
        String tmpDir = tmp.find() ? tmp.group(1) : "/tmp";
        VolumeMount mount = mountHolding(tmpDir);
        assertFalse(Boolean.TRUE.equals(mount.getReadOnly()), tmpDir + " is writable");
        assertTrue(pod.getVolumes().stream().anyMatch(v -> v.getName().equals(mount.getName()) && v.getEmptyDir() != null)
                        || statefulSet().getSpec().getVolumeClaimTemplates().stream().anyMatch(t -> t.getMetadata().getName().equals(mount.getName())),
                "java.io.tmpdir " + tmpDir + " is on an emptyDir or the data volume");
    }

    private static VolumeMount mountHolding(String path) {
        return weldr().getVolumeMounts().stream()
                .filter(m -> path.equals(m.getMountPath()) || path.startsWith(m.getMountPath() + "/"))
                .findFirst().orElseThrow(() -> new AssertionError(path + " is not on a mounted volume"));
    }

    @Test
    void resourcesHaveRequestsAndLimits() {
        Map<String, Quantity> requests = weldr().getResources().getRequests();
        Map<String, Quantity> limits = weldr().getResources().getLimits();
        for (String resource : List.of("cpu", "memory")) {
            assertNotNull(requests.get(resource), resource + " request");
            assertNotNull(limits.get(resource), resource + " limit");
            assertTrue(requests.get(resource).compareTo(limits.get(resource)) <= 0, resource + ": request above limit");
        }
        assertTrue(Quantity.getAmountInBytes(limits.get("memory")).longValue() >= 256L << 20,
                "a memory limit of at least 256Mi: the JVM, Netty and RocksDB need it");
    }

    @Test
    void podDisruptionBudgetKeepsAQuorum() {
        PodDisruptionBudget pdb = only(PodDisruptionBudget.class);
        assertTrue(selectsWeldrPods(pdb.getSpec().getSelector().getMatchLabels()), "the budget covers weldr's pods");
        int replicas = statefulSet().getSpec().getReplicas();
        int quorum = replicas / 2 + 1;
        IntOrString maxUnavailable = pdb.getSpec().getMaxUnavailable();
        IntOrString minAvailable = pdb.getSpec().getMinAvailable();
        assertTrue(maxUnavailable == null ^ minAvailable == null, "one of maxUnavailable and minAvailable");
        if (maxUnavailable != null) {
            assertNotNull(maxUnavailable.getIntVal(), "an absolute maxUnavailable");
            assertTrue(maxUnavailable.getIntVal() >= 1 && replicas - maxUnavailable.getIntVal() >= quorum,
                    "maxUnavailable " + maxUnavailable.getIntVal() + " leaves a majority of " + replicas);
        } else {
            assertNotNull(minAvailable.getIntVal(), "an absolute minAvailable");
            assertTrue(minAvailable.getIntVal() >= quorum && minAvailable.getIntVal() < replicas);
        }
    }

    @Test
    void everyWeldrVariableIsAKeyWeldrKnowsWithAValidValue() {
        Set<String> known = weldrEnvironmentNames();
        assertTrue(known.contains("WELDR_HEALTH_CHECK_INTERVAL") && known.contains("WELDR_RAFT_DATA_DIR"), "names read from WeldrConfig: " + known);
        Map<String, String> env = environment("weldr-1", "ns");
        for (String name : env.keySet()) {
            if (name.startsWith("WELDR_")) {
                assertTrue(known.contains(name), name + " is not a weldr key (a typo is silently ignored): known are " + known);
            }
        }
        List<String> names = weldr().getEnv().stream().map(EnvVar::getName).toList();
        assertEquals(new HashSet<>(names).size(), names.size(), "an env variable is set twice: " + names);
        Set<String> modes = Arrays.stream(HaMode.values()).map(m -> m.name().toLowerCase().replace('_', '-')).collect(Collectors.toSet());
        assertTrue(modes.contains(env.getOrDefault("WELDR_HA_MODE", "active-passive")), "WELDR_HA_MODE is one of " + modes);
    }

    /** WeldrConfig's keys as environment variables: weldr.health-check.interval -> WELDR_HEALTH_CHECK_INTERVAL. */
    static Set<String> weldrEnvironmentNames() {
        Set<String> names = new TreeSet<>();
        collect(WeldrConfig.class, "weldr", names);
        return names;
    }

    private static void collect(Class<?> group, String prefix, Set<String> names) {
        for (Method m : group.getDeclaredMethods()) {
            if (m.isDefault() || Modifier.isStatic(m.getModifiers()) || m.getParameterCount() > 0) {
                continue;
            }
            WithName withName = m.getAnnotation(WithName.class);
            String key = prefix + "." + (withName != null ? withName.value() : m.getName().replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase());
            Class<?> type = m.getReturnType();
            // Groups nest (weldr.cluster.tls.*: Cluster.Tls), so any interface declared inside WeldrConfig.
            if (type.isInterface() && type.getName().startsWith(WeldrConfig.class.getName() + "$")) {
                collect(type, key, names);
            } else {
                names.add(key.toUpperCase().replace('.', '_').replace('-', '_'));
            }
        }
    }

    static Path kubectl() {
        return Stream.of(Objects.toString(System.getenv("PATH"), "").split(java.io.File.pathSeparator))
                .map(dir -> Path.of(dir, "kubectl")).filter(Files::isExecutable).findFirst().orElse(null);
    }

    /** {@code kubectl kustomize dir}, strictly parsed. */
    static List<HasMetadata> kustomize(Path kubectl, Path dir) throws Exception {
        Process process = new ProcessBuilder(kubectl.toString(), "kustomize", dir.toString()).start();
        process.getOutputStream().close();
        java.util.concurrent.CompletableFuture<byte[]> err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return process.getErrorStream().readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        byte[] out = process.getInputStream().readAllBytes();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize did not finish in 60 s");
        assertEquals(0, process.exitValue(), "kubectl kustomize " + dir + " failed: " + new String(err.get(), StandardCharsets.UTF_8));
        return StrictManifests.parse("kubectl kustomize " + dir, new String(out, StandardCharsets.UTF_8));
    }

    @Test
    void kustomizeRendersTheManifests() throws Exception {
        Path kubectl = kubectl();
        assumeTrue(kubectl != null, "kubectl is not on PATH: `kubectl kustomize k8s` not run");
        List<HasMetadata> rendered = kustomize(kubectl, K8S);
        Set<String> expected = manifests().values().stream().flatMap(List::stream)
                .map(r -> r.getKind() + "/" + r.getMetadata().getName()).collect(Collectors.toCollection(TreeSet::new));
        Set<String> got = rendered.stream().map(r -> r.getKind() + "/" + r.getMetadata().getName())
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(expected, got, "kustomize renders every manifest");
        List<String> images = new ArrayList<>();
        rendered.stream().filter(StatefulSet.class::isInstance).map(StatefulSet.class::cast)
                .forEach(s -> s.getSpec().getTemplate().getSpec().getContainers().forEach(c -> images.add(c.getImage())));
        assertEquals(1, images.size());
        assertFalse(images.get(0).isBlank(), "the rendered StatefulSet names an image");
    }

    /** The overlay README.md tells users to write (its token in a file kept out of the repository) renders as it says. */
    @Test
    void readmeOverlayReplacesTheTokenAndSetsNamespaceAndImage(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path kubectl = kubectl();
        assumeTrue(kubectl != null, "kubectl is not on PATH: the README overlay is not rendered");
        String readme = Files.readString(Path.of("README.md"));
        Matcher block = Pattern.compile("cat > my-weldr/kustomization.yaml <<'YAML'\n(.*?)\nYAML\n", Pattern.DOTALL).matcher(readme);
        assertTrue(block.find(), "README.md no longer shows the overlay (cat > my-weldr/kustomization.yaml <<'YAML' ... YAML)");
        Path base = dir.resolve("k8s");
        Files.createDirectories(base);
        try (Stream<Path> files = Files.list(K8S)) {
            for (Path f : files.toList()) {
                Files.copy(f, base.resolve(f.getFileName()));
            }
        }
        Path overlay = Files.createDirectories(dir.resolve("my-weldr"));
        Files.writeString(overlay.resolve("kustomization.yaml"), block.group(1) + "\n");
        Files.writeString(overlay.resolve("admin-token.env"), "token=from-the-overlay\n");

        List<HasMetadata> rendered = kustomize(kubectl, overlay);
        Secret secret = rendered.stream().filter(Secret.class::isInstance).map(Secret.class::cast).findFirst()
                .orElseThrow(() -> new AssertionError("no Secret rendered"));
        assertEquals("weldr-admin-token", secret.getMetadata().getName(), "the Secret keeps the name the StatefulSet refers to");
        assertEquals("from-the-overlay", secretValue(secret, "token"));
        assertTrue(secret.getStringData() == null || secret.getStringData().isEmpty(), "the placeholder is gone: " + secret.getStringData());
        String namespace = rendered.get(0).getMetadata().getNamespace();
        assertNotNull(namespace);
        rendered.forEach(r -> assertEquals(namespace, r.getMetadata().getNamespace(), r.getKind() + " namespace"));
        StatefulSet set = rendered.stream().filter(StatefulSet.class::isInstance).map(StatefulSet.class::cast).findFirst().orElseThrow();
        assertEquals("weldr-admin-token", set.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
                .filter(e -> e.getName().equals("WELDR_ADMIN_TOKEN")).findFirst().orElseThrow().getValueFrom().getSecretKeyRef().getName());
        assertNotEquals("weldr:jvm", set.getSpec().getTemplate().getSpec().getContainers().get(0).getImage(), "the overlay sets the image");
    }

    /** Copies k8s/, subdirectories too, into {@code dir}/k8s. */
    private static Path copyManifests(Path dir) throws IOException {
        Path base = dir.resolve("k8s");
        try (Stream<Path> files = Files.walk(K8S)) {
            for (Path f : files.toList()) {
                Path to = base.resolve(K8S.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        }
        return base;
    }

    /**
     * The overlay README.md shows for mutual TLS on the Raft port (the component cluster-tls/,
     * cert-manager's certificates, the namespace filled into their names) renders a StatefulSet
     * in which each member reads, from a volume that follows the Secrets, the certificate
     * cert-manager issues for exactly its own Raft host.
     */
    @Test
    void readmeTlsOverlayGivesEachMemberACertificateForItsOwnRaftHost(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path kubectl = kubectl();
        assumeTrue(kubectl != null, "kubectl is not on PATH: the README's TLS overlay is not rendered");
        String readme = Files.readString(Path.of("README.md"));
        Matcher block = Pattern.compile("cat > my-weldr/kustomization.yaml <<'YAML'\n(.*?)\nYAML\n", Pattern.DOTALL).matcher(readme);
        String overlayText = null;
        while (block.find()) {
            if (block.group(1).contains("../k8s/cluster-tls")) {
                overlayText = block.group(1);
            }
        }
        assertNotNull(overlayText, "README.md no longer shows an overlay with ../k8s/cluster-tls");
        copyManifests(dir);
        Path overlay = Files.createDirectories(dir.resolve("my-weldr"));
        Files.writeString(overlay.resolve("kustomization.yaml"), overlayText + "\n");
        Files.writeString(overlay.resolve("admin-token.env"), "token=from-the-overlay\n");

        Process process = new ProcessBuilder(kubectl.toString(), "kustomize", overlay.toString()).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize did not finish in 60 s");
        assertEquals(0, process.exitValue(), "kubectl kustomize failed: " + out);

        List<HasMetadata> ours = new ArrayList<>();
        Map<String, JsonNode> certificates = new LinkedHashMap<>();
        for (JsonNode doc : StrictManifests.documents("rendered", out)) {
            String apiVersion = doc.path("apiVersion").asText();
            if (apiVersion.startsWith("cert-manager.io/")) {
                if (doc.path("kind").asText().equals("Certificate")) {
                    certificates.put(doc.path("spec").path("secretName").asText(), doc);
                }
            } else {
                ours.add(StrictManifests.parse("rendered " + doc.path("kind").asText(), doc));
            }
        }
        StatefulSet set = ours.stream().filter(StatefulSet.class::isInstance).map(StatefulSet.class::cast).findFirst().orElseThrow();
        String namespace = set.getMetadata().getNamespace();
        String domain = ours.stream().filter(ConfigMap.class::isInstance).map(ConfigMap.class::cast).findFirst().orElseThrow()
                .getData().get("CLUSTER_DOMAIN");
        Container c = set.getSpec().getTemplate().getSpec().getContainers().get(0);
        List<String> names = c.getEnv().stream().map(EnvVar::getName).toList();
        Set<String> known = weldrEnvironmentNames();
        for (String key : List.of("WELDR_CLUSTER_TLS_CERT", "WELDR_CLUSTER_TLS_KEY", "WELDR_CLUSTER_TLS_CA")) {
            assertTrue(known.contains(key), key + " is a key weldr knows");
            assertTrue(names.indexOf(key) > names.indexOf("POD_NAME") && names.indexOf("POD_NAME") >= 0,
                    key + " comes after POD_NAME, or $(POD_NAME) would not expand: " + names);
        }
        assertEquals(new HashSet<>(names).size(), names.size(), "an env variable is set twice: " + names);
        assertEquals(List.of(), plainAdminOpenings(ours), "the README's TLS overlay serves the admin API over HTTPS only");

        for (int ordinal = 0; ordinal < set.getSpec().getReplicas(); ordinal++) {
            String pod = set.getMetadata().getName() + "-" + ordinal;
            Map<String, String> env = new LinkedHashMap<>(Map.of("POD_NAME", pod, "POD_NAMESPACE", namespace, "CLUSTER_DOMAIN", domain));
            c.getEnv().stream().filter(e -> e.getValue() != null).forEach(e -> env.put(e.getName(), expand(e.getValue(), env)));
            String raftHost = env.get("WELDR_RAFT_HOST");
            assertEquals(pod + ".weldr-raft." + namespace + ".svc." + domain, raftHost);
            Set<String> secrets = new TreeSet<>();
            for (String key : List.of("WELDR_CLUSTER_TLS_CERT", "WELDR_CLUSTER_TLS_KEY", "WELDR_CLUSTER_TLS_CA")) {
                secrets.add(secretBehind(set, c, env.get(key), key));
            }
            assertEquals(1, secrets.size(), pod + " reads its certificate, key and CA from one Secret: " + secrets);
            JsonNode certificate = certificates.get(secrets.iterator().next());
            assertNotNull(certificate, "cert-manager makes the Secret " + secrets + " that " + pod + " reads");
            List<String> dnsNames = new ArrayList<>();
            certificate.path("spec").path("dnsNames").forEach(n -> dnsNames.add(n.asText()));
            assertEquals(List.of(raftHost), dnsNames, pod + "'s certificate names its own Raft host, and only it");
            List<String> usages = new ArrayList<>();
            certificate.path("spec").path("usages").forEach(n -> usages.add(n.asText()));
            assertTrue(usages.containsAll(List.of("server auth", "client auth")), "a member is both ends of connections: " + usages);
        }
    }

    // ---- The admin API over HTTPS with cluster-tls/ -----------------------------------------------

    private static final Pattern SIMPLE_NAME = Pattern.compile("[a-z0-9]+");

    /**
     * Everything that leaves the admin listener of a rendered StatefulSet, or a Service or probe
     * in front of it, on plain HTTP, where followers forward callers' tokens and joiners send
     * theirs; empty when it serves HTTPS only with each member's own cluster certificate.
     */
    static List<String> plainAdminOpenings(List<HasMetadata> rendered) {
        List<String> problems = new ArrayList<>();
        StatefulSet set = rendered.stream().filter(StatefulSet.class::isInstance).map(StatefulSet.class::cast).findFirst()
                .orElseThrow(() -> new AssertionError("no StatefulSet rendered"));
        Container c = set.getSpec().getTemplate().getSpec().getContainers().get(0);
        int admin = c.getPorts().stream().filter(p -> "admin".equals(p.getName())).findFirst().map(ContainerPort::getContainerPort)
                .orElseThrow(() -> new AssertionError("the weldr container has no port named admin"));
        Map<String, String> env = new LinkedHashMap<>();
        c.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));

        String bucket = env.get("QUARKUS_HTTP_TLS_CONFIGURATION_NAME");
        if (bucket == null) {
            problems.add("QUARKUS_HTTP_TLS_CONFIGURATION_NAME is not set: the admin listener has no TLS configuration");
        } else if (!SIMPLE_NAME.matcher(bucket).matches()) {
            problems.add("QUARKUS_HTTP_TLS_CONFIGURATION_NAME=" + bucket + ": a name an environment variable can spell is lower case letters and digits");
        } else {
            // SmallRye reads a map key of an environment variable between double underscores only:
            // QUARKUS_TLS_ADMIN_KEY_STORE_PEM_0_CERT stops the start (tried on the packaged jar).
            String prefix = "QUARKUS_TLS__" + bucket.toUpperCase(java.util.Locale.ROOT) + "__KEY_STORE_PEM__0__";
            Map<String, String> ownFiles = Map.of("CERT", "WELDR_CLUSTER_TLS_CERT", "KEY", "WELDR_CLUSTER_TLS_KEY");
            ownFiles.forEach((file, cluster) -> {
                String value = env.get(prefix + file);
                if (value == null) {
                    problems.add(prefix + file + " is not set");
                } else if (!value.equals(env.get(cluster))) {
                    problems.add(prefix + file + "=" + value + " is not the member's own cluster " + file.toLowerCase()
                            + " (" + cluster + "=" + env.get(cluster) + "), which names its advertised host");
                }
            });
        }
        env.keySet().stream().filter(k -> k.startsWith("QUARKUS_TLS_") && !k.startsWith("QUARKUS_TLS__"))
                .forEach(k -> problems.add(k + ": a map key without double underscores is not read (and stops the start)"));
        String sslPort = env.get("QUARKUS_HTTP_SSL_PORT");
        if (!String.valueOf(admin).equals(sslPort)) {
            problems.add("QUARKUS_HTTP_SSL_PORT=" + sslPort + ", not the admin containerPort " + admin);
        }
        if (!"disabled".equals(env.get("QUARKUS_HTTP_INSECURE_REQUESTS"))) {
            problems.add("QUARKUS_HTTP_INSECURE_REQUESTS=" + env.get("QUARKUS_HTTP_INSECURE_REQUESTS") + ": plain HTTP is still served");
        }
        for (String key : List.of("WELDR_ADMIN_ADVERTISED_URL", "WELDR_RAFT_JOIN")) {
            if (env.containsKey(key) && !env.get(key).startsWith("https://")) {
                problems.add(key + "=" + env.get(key) + " is not https://");
            }
        }

        Map<String, Probe> probes = new LinkedHashMap<>();
        probes.put("startup", c.getStartupProbe());
        probes.put("liveness", c.getLivenessProbe());
        probes.put("readiness", c.getReadinessProbe());
        probes.forEach((what, probe) -> {
            if (probe != null && probe.getHttpGet() != null && portOf(c, probe.getHttpGet().getPort()) == admin
                    && !"HTTPS".equals(probe.getHttpGet().getScheme())) {
                problems.add("the " + what + " probe asks the admin port with scheme " + probe.getHttpGet().getScheme());
            }
        });
        for (Service service : rendered.stream().filter(Service.class::isInstance).map(Service.class::cast).toList()) {
            for (ServicePort port : service.getSpec().getPorts()) {
                if (portOf(c, port.getTargetPort() == null ? new IntOrString(port.getPort()) : port.getTargetPort()) == admin
                        && !"https".equals(port.getAppProtocol())) {
                    problems.add("Service " + service.getMetadata().getName() + " port " + port.getName() + " to the admin port has appProtocol "
                            + port.getAppProtocol());
                }
            }
        }
        return problems;
    }

    private static int portOf(Container c, IntOrString port) {
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return c.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName())).findFirst().map(ContainerPort::getContainerPort)
                .orElse(-1);
    }

    /** k8s/ with cluster-tls/ as a component, the shortest overlay, rendered. */
    private static List<HasMetadata> renderWithClusterTls(Path kubectl, Path dir) throws Exception {
        Path overlay = Files.createDirectories(dir.resolve("overlay"));
        Files.writeString(overlay.resolve("kustomization.yaml"), """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                namespace: proxy
                resources:
                  - ../k8s
                components:
                  - ../k8s/cluster-tls
                """);
        return kustomize(kubectl, overlay);
    }

    @Test
    void clusterTlsServesTheAdminApiOverHttpsOnlyWithTheMembersCertificate(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path kubectl = kubectl();
        assumeTrue(kubectl != null, "kubectl is not on PATH: cluster-tls/ is not rendered");
        copyManifests(dir);
        List<HasMetadata> rendered = renderWithClusterTls(kubectl, dir);
        assertEquals(List.of(), plainAdminOpenings(rendered));
        Container c = rendered.stream().filter(StatefulSet.class::isInstance).map(StatefulSet.class::cast).findFirst().orElseThrow()
                .getSpec().getTemplate().getSpec().getContainers().get(0);
        for (Probe probe : Arrays.asList(c.getStartupProbe(), c.getLivenessProbe(), c.getReadinessProbe())) {
            assertNotNull(probe);
            assertEquals(8687, portOf(c, probe.getHttpGet().getPort()), "every probe still asks the admin port, now over HTTPS");
        }
        List<String> names = c.getEnv().stream().map(EnvVar::getName).toList();
        names.stream().filter(n -> n.startsWith("QUARKUS_TLS__")).forEach(n ->
                assertTrue(names.indexOf(n) > names.indexOf("POD_NAME"), n + " comes after POD_NAME, or $(POD_NAME) would not expand"));
        // Without the component, nothing of it: the base keeps plain HTTP, as its own tests check.
        assertFalse(plainAdminOpenings(kustomize(kubectl, K8S)).isEmpty());
    }

    /** The check above finds a component that leaves the admin listener on plain HTTP (else it would pass on anything). */
    @Test
    void adminCheckFindsAComponentThatLeavesTheAdminListenerOnPlainHttp(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path kubectl = kubectl();
        assumeTrue(kubectl != null, "kubectl is not on PATH: cluster-tls/ is not rendered");
        Path patch = K8S.resolve("cluster-tls/statefulset-tls.yaml");
        String yaml = Files.readString(patch);
        String insecure = """
                - op: add
                  path: /spec/template/spec/containers/0/env/-
                  value:
                    name: QUARKUS_HTTP_INSECURE_REQUESTS
                    value: disabled
                """;
        String readinessHttps = """
                - op: add
                  path: /spec/template/spec/containers/0/readinessProbe/httpGet/scheme
                  value: HTTPS
                """;
        Map<String, String> broken = new LinkedHashMap<>();
        broken.put("plain HTTP still served", yaml.replace(insecure, ""));
        broken.put("plain HTTP redirected on the same port", yaml.replace("value: disabled", "value: redirect"));
        broken.put("HTTPS on Quarkus's default 8443", yaml.replace("value: \"8687\"", "value: \"8443\""));
        broken.put("readiness over HTTP", yaml.replace(readinessHttps, ""));
        broken.put("the map keys without double underscores", yaml.replace("QUARKUS_TLS__ADMIN__KEY_STORE_PEM__0__", "QUARKUS_TLS_ADMIN_KEY_STORE_PEM_0_"));
        broken.put("another member's key", yaml.replace("value: /etc/weldr/cluster-tls/$(POD_NAME)/tls.key\n- op: add\n  path: /spec/template/spec/containers/0/env/-\n  value:\n    name: QUARKUS_TLS__ADMIN__RELOAD_PERIOD",
                "value: /etc/weldr/cluster-tls/weldr-0/tls.key\n- op: add\n  path: /spec/template/spec/containers/0/env/-\n  value:\n    name: QUARKUS_TLS__ADMIN__RELOAD_PERIOD"));
        broken.put("no Service patch", null);
        int round = 0;
        for (Map.Entry<String, String> b : broken.entrySet()) {
            Path copy = dir.resolve("round" + round++);
            Path base = copyManifests(copy);
            if (b.getValue() == null) {
                Path kustomization = base.resolve("cluster-tls/kustomization.yaml");
                String k = Files.readString(kustomization);
                String changed = k.replace("  - path: services-tls.yaml\n", "");
                assertNotEquals(k, changed, b.getKey());
                Files.writeString(kustomization, changed);
            } else {
                assertNotEquals(yaml, b.getValue(), b.getKey() + ": statefulset-tls.yaml is no longer written as this test expects");
                Files.writeString(base.resolve("cluster-tls/statefulset-tls.yaml"), b.getValue());
            }
            List<String> problems = plainAdminOpenings(renderWithClusterTls(kubectl, copy));
            assertFalse(problems.isEmpty(), b.getKey() + ": not found");
        }
    }

    /** The Secret a file path in the container comes from, through its mounted projected or Secret volume, with that key. */
    private static String secretBehind(StatefulSet set, Container c, String path, String what) {
        VolumeMount mount = c.getVolumeMounts().stream().filter(m -> path.startsWith(m.getMountPath() + "/")).findFirst()
                .orElseThrow(() -> new AssertionError(what + "=" + path + " is on no mounted volume"));
        assertTrue(mount.getSubPath() == null || mount.getSubPath().isEmpty(), "a subPath mount does not follow the Secret's updates");
        String relative = path.substring(mount.getMountPath().length() + 1);
        io.fabric8.kubernetes.api.model.Volume volume = set.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
        List<io.fabric8.kubernetes.api.model.SecretProjection> sources = new ArrayList<>();
        if (volume.getProjected() != null) {
            volume.getProjected().getSources().stream().filter(s -> s.getSecret() != null).forEach(s -> sources.add(s.getSecret()));
        }
        for (io.fabric8.kubernetes.api.model.SecretProjection secret : sources) {
            for (io.fabric8.kubernetes.api.model.KeyToPath item : secret.getItems()) {
                if (item.getPath().equals(relative)) {
                    String key = path.substring(path.lastIndexOf('/') + 1);
                    assertEquals(key, item.getKey(), what + ": the file " + relative + " is the Secret's key of that name");
                    return secret.getName();
                }
            }
        }
        return fail(what + "=" + path + ": no Secret of volume " + volume.getName() + " puts a file at " + relative);
    }
}
