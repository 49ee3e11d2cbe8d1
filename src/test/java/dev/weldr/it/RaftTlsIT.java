package dev.weldr.it;

import com.alipay.remoting.ExtendedNettyChannelHandler;
import com.alipay.remoting.config.BoltClientOption;
import com.alipay.remoting.rpc.RpcClient;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.rpc.ProtobufMsgFactory;
import com.alipay.sofa.jraft.rpc.RpcRequests;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Message;
import dev.weldr.tls.TestCertificates;
import dev.weldr.tls.TlsClient;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Three weldr processes with mutual TLS on the Raft port: they elect a leader and replicate;
 * rogues (no TLS, no certificate, another CA's certificate, a good certificate claiming another
 * node's id) can neither vote nor append; certificates (then the CA) are rotated one node at a
 * time with no election. One cluster for the whole class: starting one costs most of the time.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RaftTlsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private static final String HOST = "127.0.0.1";

    private final Path dir;
    private final TestCertificates.Issued ca = TestCertificates.ca("weldr test cluster CA");
    private final Backends backends = new Backends();
    private TestCluster cluster;

    RaftTlsIT() throws IOException {
        dir = Files.createTempDirectory(Path.of("target", "tmp").toAbsolutePath(), "raft-tls");
    }

    @BeforeAll
    void start() throws Exception {
        Files.createDirectories(dir);
        for (int i = 0; i < 3; i++) {
            writeNode(i, nodeCertificate(ca, Instant.now().plus(Duration.ofDays(30))), List.of(ca));
        }
        cluster = new TestCluster(dir, 3, Map.of(
                "weldr.raft.election-timeout", "1s",
                "weldr.cluster.tls.reload-interval", "200ms"),
                i -> Map.of("weldr.cluster.tls.cert", tlsFile(i, "cert.pem").toString(),
                        "weldr.cluster.tls.key", tlsFile(i, "key.pem").toString(),
                        "weldr.cluster.tls.ca", tlsFile(i, "ca.pem").toString()));
        cluster.start();
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        backends.close();
    }

    @Test
    @Order(1)
    void shouldElectALeaderAndReplicateAWriteOverMutualTls() {
        WeldrProcess leader = cluster.awaitLeader(PATIENCE);
        assertTrue(leader.stdout().contains("Cluster TLS on the Raft port"), leader.stdout());
        addServerEverywhere(cluster.followers(leader).get(0));
    }

    @Test
    @Order(2)
    void shouldRefuseRoguesThatTryToVoteOrAppendAndKeepLeaderTermAndPool() throws Exception {
        WeldrProcess leader = cluster.awaitLeader(PATIENCE);
        String servers = addServerEverywhere(leader);
        long term = term(leader);
        String group = cluster(leader).path("cluster").asText();
        WeldrProcess follower = cluster.followers(leader).get(0);

        TestCertificates.Issued stranger = TestCertificates.ca("another CA");
        TestCertificates.Issued strangers = TestCertificates.server(stranger, List.of("localhost"), List.of(HOST));
        TestCertificates.Issued misnamed = TestCertificates.server(ca, List.of("rogue.weldr.test"), List.of("127.0.0.9"));
        SslContext noCertificate = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        SslContext otherCa = clientContext(strangers);
        SslContext wrongName = clientContext(misnamed);

        double handshakesBefore = refused(leader, "handshake") + refused(follower, "handshake");
        double identityBefore = refused(leader, "identity") + refused(follower, "identity");
        int handshakeAttempts = 0;
        int identityAttempts = 0;
        for (WeldrProcess target : List.of(follower, leader)) {
            // Claims to be the other node of the pair, with a term far ahead: obeyed, either would end the leadership.
            String claimed = (target == leader ? follower : leader).raftId();
            List<Message> requests = List.of(vote(group, claimed, target.raftId(), term + 100), append(group, claimed, target.raftId(), term + 100));
            for (Message request : requests) {
                for (SslContext tls : new SslContext[]{null, noCertificate, otherCa}) {
                    assertConnectionRefused(tls, target.raftPort, request);
                    handshakeAttempts++;
                }
                Object answer = rogue(wrongName, target.raftPort, request);
                RpcRequests.ErrorResponse error = assertInstanceOf(RpcRequests.ErrorResponse.class, answer, String.valueOf(answer));
                assertEquals(RaftError.EPERM.getNumber(), error.getErrorCode(), error.toString());
                identityAttempts++;
            }
        }

        assertEquals(leader.raftId(), cluster.awaitLeader(PATIENCE).raftId());
        for (WeldrProcess n : cluster.nodes) {
            assertEquals(term, term(n), n.raftId() + "'s term");
            assertEquals(servers, serverIds(n), n.raftId() + "'s pool");
        }
        int handshakes = handshakeAttempts;
        WeldrProcess.await(PATIENCE, () -> refused(leader, "handshake") + refused(follower, "handshake") >= handshakesBefore + handshakes,
                handshakes + " more handshake refusals counted");
        assertEquals(identityBefore + identityAttempts, refused(leader, "identity") + refused(follower, "identity"));
        assertTrue(follower.stdout().contains("Raft port refused"), follower.stdout());
        // And the members still replicate to each other.
        addServerEverywhere(follower);
    }

    @Test
    @Order(3)
    void shouldRotateCertificatesThenTheCaOneNodeAtATimeWithoutAnElection() throws Exception {
        WeldrProcess leader = cluster.awaitLeader(PATIENCE);
        long term = term(leader);

        // New certificates from the same CA, each lasting a different while: the gauge tells them apart.
        for (int i = 0; i < 3; i++) {
            TestCertificates.Issued next = nodeCertificate(ca, Instant.now().plus(Duration.ofDays(40 + i)));
            writeNode(i, next, List.of(ca));
            awaitServing(cluster.nodes.get(i), next);
            addServerEverywhere(cluster.nodes.get((i + 1) % 3));
        }

        // A new CA: first trusted beside the old one everywhere, then each node's certificate
        // from it, then the old CA dropped.
        TestCertificates.Issued nextCa = TestCertificates.ca("weldr test cluster CA 2");
        TestCertificates.Issued probe = TestCertificates.server(nextCa, List.of(), List.of(HOST));
        List<TestCertificates.Issued> fromNextCa = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            writeFile(i, "ca.pem", TestCertificates.pem(ca.certificate()) + TestCertificates.pem(nextCa.certificate()));
            int node = i;
            WeldrProcess.await(PATIENCE, () -> accepts(cluster.nodes.get(node), probe), cluster.nodes.get(i).raftId() + " to trust the new CA");
        }
        for (int i = 0; i < 3; i++) {
            TestCertificates.Issued next = nodeCertificate(nextCa, Instant.now().plus(Duration.ofDays(50 + i)));
            fromNextCa.add(next);
            writeNode(i, next, List.of(ca, nextCa));
            awaitServing(cluster.nodes.get(i), next);
            addServerEverywhere(cluster.nodes.get(i));
        }
        TestCertificates.Issued oldProbe = TestCertificates.server(ca, List.of(), List.of(HOST));
        for (int i = 0; i < 3; i++) {
            writeFile(i, "ca.pem", TestCertificates.pem(nextCa.certificate()));
            int node = i;
            WeldrProcess.await(PATIENCE, () -> !accepts(cluster.nodes.get(node), oldProbe), cluster.nodes.get(i).raftId() + " to stop trusting the old CA");
        }
        addServerEverywhere(leader);

        assertEquals(leader.raftId(), cluster.awaitLeader(PATIENCE).raftId());
        for (WeldrProcess n : cluster.nodes) {
            assertEquals(term, term(n), n.raftId() + "'s term: no election during the rotation");
        }

        // A follower restarted now reaches its peers, and they it, with the new material only.
        WeldrProcess follower = cluster.followers(leader).get(0);
        int index = cluster.nodes.indexOf(follower);
        follower.stop();
        WeldrProcess again = follower.again("node" + index + "-again");
        cluster.nodes.set(index, again);
        again.start();
        String pool = addServerEverywhere(leader);
        WeldrProcess.await(PATIENCE, () -> pool.equals(serverIds(again)), again.raftId() + " to catch up");
        assertEquals(fromNextCa.get(index).certificate().getSerialNumber(), served(again, probe).getSerialNumber());
    }

    @Test
    @Order(4)
    void shouldNotLetANodeWithAnotherCasCertificateJoin() throws Exception {
        WeldrProcess leader = cluster.awaitLeader(PATIENCE);
        long term = term(leader);
        String members = cluster(leader).path("peers").toString();
        // Consistent by itself (its certificate names its host, its CA signs it): only the members' CA differs.
        TestCertificates.Issued otherCa = TestCertificates.ca("a rogue's CA");
        TestCertificates.Issued own = nodeCertificate(otherCa, Instant.now().plus(Duration.ofDays(30)));
        Path tls = Files.createDirectories(dir.resolve("rogue-tls"));
        Files.writeString(tls.resolve("key.pem"), own.keyPem());
        Files.writeString(tls.resolve("cert.pem"), own.chainPem());
        Files.writeString(tls.resolve("ca.pem"), TestCertificates.pem(otherCa.certificate()));
        try (WeldrProcess rogue = WeldrProcess.create("rogue-joiner", dir.resolve("rogue-data"), Map.of(
                "weldr.raft.join", leader.admin(),
                "weldr.raft.election-timeout", "1s",
                "weldr.cluster.tls.cert", tls.resolve("cert.pem").toString(),
                "weldr.cluster.tls.key", tls.resolve("key.pem").toString(),
                "weldr.cluster.tls.ca", tls.resolve("ca.pem").toString()))) {
            rogue.start();
            // It asks, the leader tries to bring it up to date over the Raft port, and neither side
            // completes a handshake: the change is refused, again and again.
            WeldrProcess.await(PATIENCE, () -> count(rogue.stdout(), "peer_not_caught_up") >= 2,
                    "the rogue's requests to join refused twice");
            assertFalse(rogue.stdout().contains("joined the cluster"), rogue.stdout());
        }
        assertEquals(leader.raftId(), cluster.awaitLeader(PATIENCE).raftId());
        assertEquals(members, cluster(leader).path("peers").toString());
        for (WeldrProcess n : cluster.nodes) {
            assertEquals(term, term(n), n.raftId() + "'s term");
        }
        addServerEverywhere(leader);
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    // ---- certificates and files

    private static TestCertificates.Issued nodeCertificate(TestCertificates.Issued issuer, Instant notAfter) {
        return TestCertificates.server(issuer, List.of("localhost"), List.of(HOST), Instant.now().minus(Duration.ofDays(1)), notAfter);
    }

    private Path tlsFile(int node, String name) {
        return dir.resolve("tls" + node).resolve(name);
    }

    private void writeNode(int node, TestCertificates.Issued cert, List<TestCertificates.Issued> cas) throws IOException {
        StringBuilder bundle = new StringBuilder();
        cas.forEach(c -> bundle.append(TestCertificates.pem(c.certificate())));
        // The key first: a node reading between the two writes sees a certificate its key does not match, and waits.
        writeFile(node, "key.pem", cert.keyPem());
        writeFile(node, "cert.pem", cert.chainPem());
        writeFile(node, "ca.pem", bundle.toString());
    }

    /** Replaces the file in one rename, as a secret volume's symlink swap does. */
    private void writeFile(int node, String name, String text) throws IOException {
        Path file = tlsFile(node, name);
        Files.createDirectories(file.getParent());
        Path temp = file.resolveSibling(name + ".tmp");
        Files.writeString(temp, text);
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Waits until {@code node} serves {@code cert} to a new connection and its expiry gauge shows it. */
    private void awaitServing(WeldrProcess node, TestCertificates.Issued cert) {
        BigInteger serial = cert.certificate().getSerialNumber();
        TestCertificates.Issued probe = TestCertificates.server(ca, List.of(), List.of(HOST));
        WeldrProcess.await(PATIENCE, () -> {
            try {
                return served(node, probe).getSerialNumber().equals(serial);
            } catch (Exception e) {
                return false;
            }
        }, node.raftId() + " to serve certificate " + serial);
        double expected = cert.certificate().getNotAfter().toInstant().getEpochSecond();
        WeldrProcess.await(PATIENCE, () -> metric(node, "weldr_cluster_tls_certificate_not_after_timestamp_seconds", "") == expected,
                node.raftId() + "'s expiry gauge to show the new certificate");
    }

    /**
     * The certificate a new connection to the node's Raft port is served, the probe presenting
     * {@code client}'s certificate. TLS 1.2: the server's verdict on the client's certificate is
     * part of the handshake (in TLS 1.3 it comes after the client thinks it is done).
     */
    private static X509Certificate served(WeldrProcess node, TestCertificates.Issued client) throws Exception {
        try (SSLSocket socket = TlsClient.connect(clientSslContext(client), node.raftPort, null, false, "TLSv1.2")) {
            socket.startHandshake();
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }

    private static boolean accepts(WeldrProcess node, TestCertificates.Issued client) {
        try {
            served(node, client);
            return true;
        } catch (Exception refused) {
            return false;
        }
    }

    private static SSLContext clientSslContext(TestCertificates.Issued client) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("c", client.keys().getPrivate(), new char[0], new X509Certificate[]{client.certificate()});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, new char[0]);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), new TrustManager[]{TlsClient.ANY}, null);
        return context;
    }

    private static SslContext clientContext(TestCertificates.Issued client) throws Exception {
        return SslContextBuilder.forClient().keyManager(client.keys().getPrivate(), client.certificate())
                .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
    }

    // ---- the rogue: JRaft's requests over bolt, from this JVM

    private static RpcRequests.RequestVoteRequest vote(String group, String claimed, String target, long term) {
        return RpcRequests.RequestVoteRequest.newBuilder().setGroupId(group).setServerId(claimed).setPeerId(target)
                .setTerm(term).setLastLogTerm(term).setLastLogIndex(1_000_000).setPreVote(false).build();
    }

    private static RpcRequests.AppendEntriesRequest append(String group, String claimed, String target, long term) {
        return RpcRequests.AppendEntriesRequest.newBuilder().setGroupId(group).setServerId(claimed).setPeerId(target)
                .setTerm(term).setPrevLogTerm(0).setPrevLogIndex(0).setCommittedIndex(0).build();
    }

    /** Sends {@code request} on a new bolt connection, with TLS from {@code tls} (null: plain TCP); the answer. */
    private static Object rogue(SslContext tls, int port, Message request) throws Exception {
        ProtobufMsgFactory.load();
        RpcClient client = new RpcClient();
        if (tls != null) {
            client.option(BoltClientOption.EXTENDED_NETTY_CHANNEL_HANDLER, new ExtendedNettyChannelHandler() {
                @Override
                public List<ChannelHandler> frontChannelHandlers() {
                    return List.of(tls.newHandler(ByteBufAllocator.DEFAULT, HOST, port));
                }

                @Override
                public List<ChannelHandler> backChannelHandlers() {
                    return null;
                }
            });
        }
        client.startup();
        try {
            return client.invokeSync(HOST + ":" + port, request, 5000);
        } finally {
            client.shutdown();
        }
    }

    private static void assertConnectionRefused(SslContext tls, int port, Message request) throws InterruptedException {
        try {
            Object answer = rogue(tls, port, request);
            fail("answered " + answer + " over " + (tls == null ? "plain TCP" : "a refused handshake"));
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception refused) {
            // the connection was closed (or never answered): the request reached no processor
        }
    }

    // ---- the cluster's state

    private String addServerEverywhere(WeldrProcess via) {
        int port = backends.start("b" + System.nanoTime());
        HttpResponse<String> r = via.post("/servers", "{\"url\":\"http://127.0.0.1:" + port + "\"}");
        assertEquals(201, r.statusCode(), r.body());
        String id = "127.0.0.1:" + port;
        for (WeldrProcess n : cluster.nodes) {
            WeldrProcess.await(PATIENCE, () -> List.of(serverIds(n).split(",")).contains(id), n.raftId() + " to list " + id);
        }
        return serverIds(via);
    }

    private static String serverIds(WeldrProcess node) {
        try {
            List<String> ids = new ArrayList<>();
            JSON.readTree(node.get("/servers").body()).path("servers").forEach(s -> ids.add(s.path("id").asText()));
            ids.sort(null);
            return String.join(",", ids);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode cluster(WeldrProcess node) {
        try {
            return JSON.readTree(node.get("/cluster").body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long term(WeldrProcess node) {
        return cluster(node).path("term").asLong();
    }

    private static double refused(WeldrProcess node, String reason) {
        return metric(node, "weldr_raft_refused_total", "reason=\"" + reason + "\"");
    }

    /** A sample of the node's Prometheus metrics whose labels contain {@code label}; NaN when absent. */
    private static double metric(WeldrProcess node, String name, String label) {
        Pattern line = Pattern.compile("^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$", Pattern.MULTILINE);
        Matcher m = line.matcher(node.get("/q/metrics").body());
        while (m.find()) {
            if (label.isEmpty() || (m.group(1) != null && m.group(1).contains(label))) {
                return Double.parseDouble(m.group(2));
            }
        }
        return Double.NaN;
    }
}
