package dev.weldr.ui;

import dev.weldr.it.TestCluster;
import dev.weldr.it.WeldrProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.support.ui.ExpectedConditions;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The /ui page served by a follower of a three-node cluster (real processes on loopback): it
 * shows the three members and who leads, and its drain, forwarded by the follower to the leader,
 * changes the replicated pool, its "Make leader" hands the lead to it, and once the other two are
 * killed it says there is no quorum.
 */
class DashboardClusterIT {

    private static final Map<String, String> FAST = Map.of(
            "weldr.raft.election-timeout", "500ms",
            "weldr.health-check.interval", "300ms",
            "weldr.health-check.timeout", "300ms");

    private static Browser browser;
    @TempDir
    Path dir;
    private TestCluster cluster;
    private SwitchableBackend backend;

    @BeforeAll
    static void startBrowser() {
        browser = Browser.start();
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    private static String state(WeldrProcess node, SwitchableBackend b) {
        HttpResponse<String> r = node.get("/servers/" + b.id().replace(':', '/'));
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    @Test
    void shouldShowTheClusterAndDrainThroughAFollower() {
        cluster = new TestCluster(dir, 3, FAST).start();
        WeldrProcess leader = cluster.awaitLeader(Duration.ofSeconds(30));
        WeldrProcess follower = cluster.followers(leader).get(0);
        backend = new SwitchableBackend();
        HttpResponse<String> added = follower.post("/servers", "{\"url\":\"" + backend.url() + "\"}");
        assertEquals(201, added.statusCode(), added.body());

        Dashboard page = new Dashboard(browser, follower.admin());
        browser.clearConsole();
        page.open().awaitShown();
        Map<String, String> roles = page.awaitPeers(3);
        assertEquals(cluster.nodes.stream().map(WeldrProcess::raftId).sorted().toList(),
                roles.keySet().stream().sorted().toList(), "the members shown");
        assertEquals(List.of(leader.raftId()),
                roles.entrySet().stream().filter(e -> e.getValue().equals("leader")).map(Map.Entry::getKey).toList(),
                "the leader shown: " + roles);
        // Where the leader's own page is, on the follower's page: what the leader advertised in /cluster.
        String advertised = browser.until(d -> d.findElements(By.id("leader-admin-url")).stream().map(e -> e.getText())
                .filter(t -> !t.isEmpty()).findFirst().orElse(null), "the leader's admin URL on the follower's page");
        assertEquals(leader.admin(), advertised, "the leader's admin URL shown by the follower's page");
        assertEquals(leader.admin() + "/ui/", browser.driver().findElement(By.id("leader-admin-url")).getAttribute("href"));
        page.awaitState("default", backend.id(), "active");
        page.top();
        browser.screenshot("dashboard-cluster-follower");

        page.act("drain", "default", backend.id());
        page.awaitAnswer("PATCH", 200);
        // The leader's own view: the follower forwarded the page's write, and it was committed.
        assertTrue(state(leader, backend).contains("\"state\":\"draining\""), state(leader, backend));
        page.awaitState("default", backend.id(), "draining");
        assertEquals(List.of(), browser.consoleErrors(), "console errors on a follower's page");

        // The page's node takes the lead through its own "Make leader" (a write the follower forwards).
        page.makeLeader(follower.raftId());
        page.awaitAnswer("POST", 200);
        for (WeldrProcess n : cluster.nodes) {
            WeldrProcess.await(Duration.ofSeconds(30), () -> n.get("/cluster").body().contains("\"leader\":\"" + follower.raftId() + "\""),
                    n.raftId() + " to name " + follower.raftId() + " the leader");
        }
        browser.until(d -> "leader".equals(page.awaitPeers(3).get(follower.raftId())) ? true : null,
                "the page to show its node as the leader");
        browser.until(d -> d.findElement(By.id("leader-admin-url")).getText().equals(follower.admin()) ? true : null,
                "the page to name its own node's admin URL as the leader's");

        // The other two gone, the page's node has no quorum: the page says so, without a reload.
        page.mark();
        cluster.nodes.stream().filter(n -> n != follower).forEach(WeldrProcess::kill);
        String banner = browser.until(ExpectedConditions.visibilityOfElementLocated(By.id("banner")), "the no-quorum banner").getText();
        assertTrue(banner.contains("No leader"), banner);
        assertTrue(page.sameDocument(), "the page reloaded to show the lost quorum");
        page.top();
        browser.screenshot("dashboard-no-quorum");
    }
}
