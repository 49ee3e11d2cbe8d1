package dev.weldr.raft;

import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.option.CliOptions;
import com.alipay.sofa.jraft.rpc.CliRequests;
import com.alipay.sofa.jraft.rpc.RpcRequests;
import com.alipay.sofa.jraft.rpc.RpcResponseClosureAdapter;
import com.alipay.sofa.jraft.rpc.impl.cli.CliClientServiceImpl;
import com.alipay.sofa.jraft.util.Endpoint;
import com.google.protobuf.Message;
import dev.weldr.admin.AdminApi;
import dev.weldr.cluster.Leadership;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Raft port: bound to {@code weldr.raft.host} alone, and deaf to JRaft's CLI services. */
@QuarkusTest
class RaftListenerTest {

    @Inject
    RaftNode raft;
    @Inject
    Leadership leadership;

    private final CliClientServiceImpl cli = new CliClientServiceImpl();

    @BeforeEach
    void startTheClient() {
        CliOptions options = new CliOptions();
        options.setTimeoutMs(10_000);
        cli.init(options);
    }

    @AfterEach
    void stopTheClient() {
        cli.shutdown();
    }

    @Test
    void shouldListenOnNoOtherAddressOfTheMachine() throws IOException {
        int port = raft.self().getPort();
        List<InetAddress> others = otherLocalAddresses();
        assertFalse(others.isEmpty());
        for (InetAddress other : others) {
            assertThrows(ConnectException.class, () -> {
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress(other, port), 10_000);
                }
            }, "a Raft listener on " + other.getHostAddress() + ":" + port);
        }
        assertTrue(connects(new InetSocketAddress("127.0.0.1", port)), "the Raft listener on 127.0.0.1:" + port);
    }

    @Test
    void shouldStayLeaderReadyAndWritableWhateverCliRequestItIsSent() {
        AdminApi.emptyPool();
        PeerId self = raft.self();
        // What an attacker computes: the group id is a hash of the peer list.
        String group = ClusterIdentity.derive(List.of(self.toString()));
        assertEquals(raft.clusterId(), group);
        long term = leadership.term();
        String elsewhere = "127.0.0.1:9";

        Endpoint to = self.getEndpoint();
        Map<String, Answer<?>> answers = new LinkedHashMap<>();
        answers.put("resetPeer", new Answer<RpcRequests.ErrorResponse>().sent(a -> cli.resetPeer(to, CliRequests.ResetPeerRequest.newBuilder()
                .setGroupId(group).setPeerId(self.toString()).addNewPeers(elsewhere).build(), a)));
        answers.put("changePeers", new Answer<CliRequests.ChangePeersResponse>().sent(a -> cli.changePeers(to, CliRequests.ChangePeersRequest.newBuilder()
                .setGroupId(group).setLeaderId(self.toString()).addNewPeers(elsewhere).build(), a)));
        answers.put("addPeer", new Answer<CliRequests.AddPeerResponse>().sent(a -> cli.addPeer(to, CliRequests.AddPeerRequest.newBuilder()
                .setGroupId(group).setLeaderId(self.toString()).setPeerId(elsewhere).build(), a)));
        answers.put("removePeer", new Answer<CliRequests.RemovePeerResponse>().sent(a -> cli.removePeer(to, CliRequests.RemovePeerRequest.newBuilder()
                .setGroupId(group).setLeaderId(self.toString()).setPeerId(self.toString()).build(), a)));
        answers.put("transferLeader", new Answer<RpcRequests.ErrorResponse>().sent(a -> cli.transferLeader(to, CliRequests.TransferLeaderRequest.newBuilder()
                .setGroupId(group).setLeaderId(self.toString()).setPeerId(PeerId.ANY_PEER.toString()).build(), a)));
        answers.put("snapshot", new Answer<RpcRequests.ErrorResponse>().sent(a -> cli.snapshot(to, CliRequests.SnapshotRequest.newBuilder()
                .setGroupId(group).setPeerId(self.toString()).build(), a)));
        answers.put("getLeader", new Answer<CliRequests.GetLeaderResponse>().sent(a -> cli.getLeader(to, CliRequests.GetLeaderRequest.newBuilder()
                .setGroupId(group).setPeerId(self.toString()).build(), a)));
        answers.forEach((request, answer) -> {
            Status status = answer.status();
            assertFalse(status.isOk(), request + " was served: " + status);
        });

        assertTrue(raft.isLeader(), "still leader");
        assertEquals(term, leadership.term(), "no new term");
        assertEquals(List.of(self), raft.peers());
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().contentType("application/json").body("{\"url\": \"http://127.0.0.1:9\"}").post("/servers")
                .then().statusCode(201);
    }

    @Test
    void shouldStartNoThreadPerMadeUpSenderOfAppendEntries() throws Exception {
        PeerId self = raft.self();
        String group = raft.clusterId();
        // JRaft's AppendEntries processor picks a single-thread executor per (receiver, sender)
        // strings of the request's header before any processor looks at the request, and keeps it
        // until a connection that was served closes: made-up senders are never served. Strangers,
        // this node's own endpoint written with an index and a priority (the same PeerId to JRaft,
        // another key to its executors), and this node named as the receiver in such ways.
        List<String[]> senders = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            senders.add(new String[]{"127.0.0.7:" + (20_000 + i), self.toString()});
            senders.add(new String[]{self + ":0:" + (i + 1), self.toString()});
            senders.add(new String[]{self.toString(), self + ":0:" + (i + 1)});
        }
        long before = appendThreads();
        List<CompletableFuture<Object>> answers = new ArrayList<>();
        for (String[] sender : senders) {
            CompletableFuture<Object> answer = new CompletableFuture<>();
            RpcRequests.AppendEntriesRequest request = RpcRequests.AppendEntriesRequest.newBuilder()
                    .setGroupId(group).setServerId(sender[0]).setPeerId(sender[1])
                    .setTerm(0).setPrevLogIndex(0).setPrevLogTerm(0).setCommittedIndex(0).build();
            cli.getRpcClient().invokeAsync(self.getEndpoint(), request, (result, error) -> {
                if (error != null) {
                    answer.completeExceptionally(error);
                } else {
                    answer.complete(result);
                }
            }, 10_000);
            answers.add(answer);
        }
        for (CompletableFuture<Object> answer : answers) {
            answer.get(60, TimeUnit.SECONDS);
        }
        long started = appendThreads() - before;
        // This single node's own id as a sender is a member's: one thread for it, STRANGERS for the rest.
        assertTrue(started <= SenderExecutors.STRANGERS + 1, started + " threads for " + senders.size() + " made-up senders");
        assertTrue(raft.isLeader(), "still leader");
    }

    private static long appendThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().contains("AppendEntries")).count();
    }

    /** The status a CLI request was answered with (or the failure to get an answer). */
    private static final class Answer<T extends Message> extends RpcResponseClosureAdapter<T> {
        private final CompletableFuture<Status> status = new CompletableFuture<>();

        Answer<T> sent(Consumer<Answer<T>> request) {
            request.accept(this);
            return this;
        }

        @Override
        public void run(Status status) {
            this.status.complete(status);
        }

        Status status() {
            try {
                return status.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("no answer", e);
            }
        }
    }

    /**
     * Addresses of this machine other than 127.0.0.1: its interfaces' (link-local IPv6 ones aside,
     * which need a scope), and 127.0.0.2, which Linux routes to loopback too, so a machine without
     * a network still has one.
     */
    private static List<InetAddress> otherLocalAddresses() throws IOException {
        List<InetAddress> found = new ArrayList<>();
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) {
                continue;
            }
            for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                if (address instanceof Inet4Address || (address instanceof Inet6Address && !address.isLinkLocalAddress())) {
                    found.add(address);
                }
            }
        }
        if (System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            found.add(InetAddress.getByAddress(new byte[]{127, 0, 0, 2}));
        }
        return found;
    }

    private static boolean connects(InetSocketAddress address) {
        try (Socket socket = new Socket()) {
            socket.connect(address, 10_000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
