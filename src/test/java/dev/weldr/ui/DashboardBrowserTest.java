package dev.weldr.ui;

import dev.weldr.proxy.ProxyServer;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import io.restassured.RestAssured;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.weldr.admin.AdminApi.emptyPool;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The /ui page in headless chromium against the running application (no token: the %test profile
 * sets none), with real backends; the %test profile checks health every 200 ms. Every change the
 * page makes is checked through the admin API, and every change made through the API is awaited
 * on the page without a reload.
 */
@QuarkusTest
class DashboardBrowserTest {

    private static Browser browser;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    @Inject
    ProxyServer proxy;
    private final List<SwitchableBackend> backends = new ArrayList<>();
    private Dashboard page;

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

    @BeforeEach
    void setUp() {
        emptyPool();
        browser.viewport(Browser.LAPTOP);
        browser.clearConsole();
        page = new Dashboard(browser, "http://127.0.0.1:" + RestAssured.port);
    }

    @AfterEach
    void tearDown() {
        emptyPool();
        backends.forEach(SwitchableBackend::close);
    }

    private SwitchableBackend backend() {
        SwitchableBackend b = new SwitchableBackend();
        backends.add(b);
        return b;
    }

    private static void add(SwitchableBackend b) {
        given().body("{\"url\":\"" + b.url() + "\"}").post("/servers").then().statusCode(201);
    }

    private static String apiState(SwitchableBackend b) {
        return given().get("/servers/" + b.id().replace(':', '/')).then().statusCode(200).extract().path("state");
    }

    @Test
    void shouldLoadWithNoConsoleErrorAndFitALaptopAndAPhone() {
        SwitchableBackend b = backend();
        add(b);
        page.open().awaitShown();
        page.awaitState("default", b.id(), "active");
        assertEquals(List.of(), browser.consoleErrors(), "console errors on load");
        assertEquals(List.of(), page.clipped("default", b.id()), "cut off on a laptop");
        page.top();
        browser.screenshot("dashboard-laptop");

        browser.viewport(Browser.PHONE);
        page.awaitShown();
        page.awaitState("default", b.id(), "active");
        assertEquals(0, page.overflowX(), "on a phone the page scrolls sideways by this many CSS pixels");
        page.top();
        browser.screenshot("dashboard-phone");
        assertEquals(List.of(), browser.consoleErrors(), "console errors after some polls");
    }

    @Test
    void shouldShowAServerWholeOnAPhone() {
        SwitchableBackend b = backend();
        add(b);
        browser.viewport(Browser.PHONE);
        page.open().awaitShown();
        page.awaitState("default", b.id(), "active");
        List<String> clipped = page.clipped("default", b.id());
        if (!clipped.isEmpty()) {
            browser.screenshot("dashboard-phone-clipped");
        }
        assertEquals(List.of(), clipped, "on a phone these parts of a server's row are cut off or hidden");
    }

    @Test
    void shouldShowAServerAddedThroughTheApiWithoutAReload() {
        page.open().awaitShown();
        page.mark();
        SwitchableBackend b = backend();
        add(b);
        page.awaitState("default", b.id(), "active");
        assertTrue(page.sameDocument(), "the page reloaded to show the new server");
        assertEquals(List.of(), browser.consoleErrors());
    }

    @Test
    void shouldShowTheTrafficOfAServer() {
        SwitchableBackend b = backend();
        add(b);
        page.open().awaitShown();
        page.awaitState("default", b.id(), "active");
        int[] sent = {0};
        // Requests go through the proxy until the page, reading the node's own counters, shows a rate above 0.
        String rate = browser.until(d -> {
            for (int i = 0; i < 20; i++) {
                assertEquals(200, proxyGet(), "through the proxy");
                sent[0]++;
            }
            String shown = d.findElement(Dashboard.figure("default", b.id(), "Req/s")).getText();
            return shown.matches("[0-9.]+") && Double.parseDouble(shown) > 0 ? shown : null;
        }, "the page to show requests per second above 0");
        assertTrue(sent[0] > 0, rate);
        // From the first samples on, each takes a fifteenth of the chart (its first 30 s fill it), not a 150th.
        double[] chart = browser.until(d -> page.rateChart("default", b.id()), "the requests-per-second chart to have a line");
        double samples = chart[0];
        assertTrue(chart[1] >= 0.9 * Math.max(1, samples - 1) / 15 && chart[1] <= 1.01,
                "a line of " + (int) samples + " samples takes " + chart[1] + " of the chart's width");
        assertEquals("0.0 %", page.text(Dashboard.figure("default", b.id(), "Errors")),
                "errors shown for a backend that answered 200 every time");
        // Traffic for eight samples (16 s), so that the screenshot (README's picture) shows charts with a course.
        browser.until(d -> {
            for (int i = 0; i < 20; i++) {
                assertEquals(200, proxyGet(), "through the proxy");
            }
            double[] grown = page.rateChart("default", b.id());
            return grown != null && grown[0] >= 8 ? true : null;
        }, "eight samples in the chart");
        page.top();
        browser.screenshot("dashboard-traffic");
        assertEquals(List.of(), browser.consoleErrors());
    }

    private int proxyGet() {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Test
    void shouldShowABackendThatStartsFailingAsDown() {
        SwitchableBackend b = backend();
        add(b);
        page.open().awaitShown();
        page.awaitState("default", b.id(), "active");
        page.mark();

        b.fail(true);
        page.awaitState("default", b.id(), "down");
        assertEquals("down", apiState(b));
        // Read inside a wait: the page redraws the row on each poll, and a stale cell is looked for again.
        String why = browser.until(d -> d.findElement(By.cssSelector(
                "#pool-list tr[data-pool='default'][data-server='" + b.id() + "'] .why")).getText(), "the reason shown");
        assertTrue(why.contains("health checks"), "the page should say why the server is down: " + why);
        // The node's own record of the change, with its reason, in the events: not the page's guess.
        String event = page.awaitEvent("down", b.id(), "HTTP 500");
        assertTrue(event.contains("pool default"), event);
        assertTrue(page.sameDocument(), "the page reloaded to show the change");
        browser.screenshot("dashboard-server-down");

        b.fail(false);
        page.awaitState("default", b.id(), "active");
        page.awaitEvent("up", b.id(), "checks passed");
        page.scrollTo("events");
        browser.screenshot("dashboard-events");
        assertTrue(page.sameDocument(), "the page reloaded to show the change");
        assertEquals(List.of(), browser.consoleErrors());
    }

    @Test
    void shouldSayUntilWhenAServerIsEjected() {
        // No active check for an hour: only traffic decides, each 500 a failure, three eject for a minute.
        given().contentType("application/json").body("{\"name\":\"ejecting\",\"healthCheck\":{\"interval\":\"1h\"},"
                + "\"outlier\":{\"consecutiveFailures\":3,\"count5xx\":true,\"baseEjection\":\"60s\",\"maxEjection\":\"60s\"}}")
                .post("/pools").then().statusCode(201);
        SwitchableBackend b = backend();
        b.fail(true);
        try {
            given().contentType("application/json").body("{\"pathPrefix\":\"/\",\"pool\":\"ejecting\"}").put("/routes/all")
                    .then().statusCode(200);
            given().contentType("application/json").body("{\"url\":\"" + b.url() + "\"}").post("/pools/ejecting/servers")
                    .then().statusCode(201);
            page.open().awaitShown();
            page.awaitState("ejecting", b.id(), "active");
            browser.until(d -> {
                proxyGet();
                return given().get("/stats/detail").then().extract().jsonPath().getBoolean("find { it.id == '" + b.id() + "' }.ejected")
                        ? true : null;
            }, "passive checks to eject the server");

            page.awaitState("ejecting", b.id(), "down");
            String why = browser.until(d -> {
                String t = d.findElement(By.cssSelector("#pool-list tr[data-pool='ejecting'][data-server='" + b.id() + "'] .why")).getText();
                return t.contains("until") ? t : null;
            }, "the page to say until when the server is ejected");
            assertTrue(why.matches("ejected by passive checks until \\d{1,2}:\\d{2}:\\d{2}.* \\(\\d+ s more\\)"), why);
            String event = page.awaitEvent("ejected", b.id(), "until");
            assertTrue(event.contains("3 consecutive failures on traffic"), event);
            browser.screenshot("dashboard-ejected");
        } finally {
            given().delete("/pools/ejecting/servers/" + b.id().replace(':', '/')).then().statusCode(204);
            given().delete("/routes/all").then().statusCode(204);
            given().delete("/pools/ejecting").then().statusCode(204);
        }
    }

    @Test
    void shouldLeaveTheServersInViewAfterAnAction() {
        SwitchableBackend b = backend();
        add(b);
        browser.viewport(new org.openqa.selenium.Dimension(1366, 768));
        page.open().awaitShown();
        page.awaitState("default", b.id(), "active");
        By row = Dashboard.server("default", b.id());
        assertTrue(page.inViewport(row), "the server's row is on the first screen before the action");

        page.act("drain", "default", b.id());
        page.awaitAnswer("PATCH", 200);
        page.awaitState("default", b.id(), "draining");
        boolean seen = page.inViewport(row);
        browser.screenshot("dashboard-after-action");
        assertTrue(seen, "the answer to the drain pushed the server's row off the screen");
        // The body is there, folded: one click shows it.
        browser.driver().findElement(By.cssSelector("#answer summary")).click();
        String body = page.text(By.id("answer-body"));
        assertTrue(body.contains("\"draining\": true"), body);
    }

    @Test
    void shouldAddAServerAndChangeItsWeightThroughThePage() {
        page.open().awaitShown();
        SwitchableBackend b = backend();
        page.addServer("default", b.url(), 3);
        page.awaitAnswer("POST", 201);
        given().get("/servers/" + b.id().replace(':', '/')).then().statusCode(200).body("weight", equalTo(3));
        page.awaitState("default", b.id(), "active");

        page.changeWeight("default", b.id(), 7);
        page.awaitAnswer("PATCH", 200);
        given().get("/servers/" + b.id().replace(':', '/')).then().statusCode(200).body("weight", equalTo(7));
        assertEquals(List.of(), browser.consoleErrors());
    }

    @Test
    void shouldDrainAndUndrainWithTheKeyboardAlone() {
        SwitchableBackend b = backend();
        add(b);
        page.open().awaitShown();
        page.awaitState("default", b.id(), "active");

        page.drainWithKeys("default", b.id());
        page.awaitAnswer("PATCH", 200);
        assertEquals("draining", apiState(b), "the keyboard's drain did not reach the pool");
        page.awaitState("default", b.id(), "draining");

        page.act("undrain", "default", b.id());
        page.awaitState("default", b.id(), "active");
        assertEquals("active", apiState(b));
    }

    @Test
    void shouldDrainAndRemoveAServerThroughThePage() {
        SwitchableBackend b = backend();
        SwitchableBackend other = backend();
        add(b);
        add(other);
        page.open().awaitShown();
        page.awaitState("default", b.id(), "active");

        page.act("drain", "default", b.id());
        page.awaitAnswer("PATCH", 200);
        assertEquals("draining", apiState(b), "the page's drain did not reach the pool");
        page.awaitState("default", b.id(), "draining");
        assertEquals("active", apiState(other), "the page drained another server too");
        browser.screenshot("dashboard-draining");

        page.act("remove", "default", b.id());
        page.awaitAnswer("DELETE", 204);
        given().get("/servers/" + b.id().replace(':', '/')).then().statusCode(404);
        page.awaitGone("default", b.id());
        given().get("/servers/" + other.id().replace(':', '/')).then().statusCode(200);
        page.awaitState("default", other.id(), "active");
        assertEquals(List.of(), browser.consoleErrors());
    }

    @Test
    void shouldPollInTheSameCallsForManyPoolsAndRedrawNothingUnchanged() {
        // 300 servers in 30 pools, checked once an hour: nothing changes unless the test changes it.
        List<String> pools = new ArrayList<>();
        try {
            for (int p = 0; p < 30; p++) {
                String pool = String.format("many-%02d", p);
                given().contentType("application/json").body("{\"name\":\"" + pool + "\",\"healthCheck\":{\"interval\":\"1h\"}}")
                        .post("/pools").then().statusCode(201);
                pools.add(pool);
                for (int s = 0; s < 10; s++) {
                    given().contentType("application/json").body("{\"url\":\"http://127.0.0.1:" + (20000 + 10 * p + s) + "\"}")
                            .post("/pools/" + pool + "/servers").then().statusCode(201);
                }
            }
            page.open().awaitShown();
            // Every row drawn, with its charts' lines (from the second reading on).
            browser.until(d -> d.findElements(By.cssSelector("#pool-list tr[data-server] td.charts polyline")).size() == 900 ? true : null,
                    "300 servers and their charts on the page");
            page.watch();
            browser.until(d -> page.calls().getOrDefault("/cluster", 0L) >= 3 ? true : null, "three polls");
            java.util.Map<String, Long> calls = page.calls();
            long polls = calls.get("/cluster");
            long total = calls.values().stream().mapToLong(Long::longValue).sum();
            // Seven calls a poll, whatever the number of pools; the poll under way may have had some answered.
            assertTrue(total <= 7 * (polls + 1), total + " calls in " + polls + " polls: " + calls);
            assertEquals(0, page.poolElementsChanged(), "elements of the unchanged pools drawn again");
            assertEquals(0, page.nodeChanges(), "the node's name (a live region) written again, unchanged");
            assertEquals(List.of(), browser.consoleErrors());
        } finally {
            for (String pool : pools) {
                given().delete("/pools/" + pool).then().statusCode(204);
            }
        }
    }

    @Test
    void shouldStartTheCountAnewWhenAServerIsAddedAgainBetweenTwoReadings() {
        given().contentType("application/json").body("{\"name\":\"resets\",\"healthCheck\":{\"interval\":\"1h\"}}")
                .post("/pools").then().statusCode(201);
        SwitchableBackend b = backend();
        String server = "/pools/resets/servers/" + b.id().replace(':', '/');
        try {
            given().contentType("application/json").body("{\"pathPrefix\":\"/\",\"pool\":\"resets\"}").put("/routes/all")
                    .then().statusCode(200);
            given().contentType("application/json").body("{\"url\":\"" + b.url() + "\"}").post("/pools/resets/servers")
                    .then().statusCode(201);
            page.open().awaitShown();
            page.awaitState("resets", b.id(), "active");
            // Each reading of the counters is taken when the test lets it go.
            page.hold("/stats/detail");
            page.awaitHeld();
            b.fail(true);
            for (int i = 0; i < 5; i++) {
                assertTrue(proxyGet() >= 500, "through the proxy to a failing backend");
            }
            page.release();
            page.release();
            assertEquals("0.0 %", page.text(Dashboard.figure("resets", b.id(), "Errors")), "no request since the last reading");

            // Removed and added again between two readings: its counters start from 0, below the last reading.
            given().delete(server).then().statusCode(204);
            given().contentType("application/json").body("{\"url\":\"" + b.url() + "\"}").post("/pools/resets/servers")
                    .then().statusCode(201);
            b.fail(false);
            for (int i = 0; i < 30; i++) {
                assertEquals(200, proxyGet(), "through the proxy");
            }
            page.release();
            assertEquals("\u2014", page.text(Dashboard.figure("resets", b.id(), "Errors")),
                    "a reading below the last is a new start: no rate from it");
            assertEquals("\u2014", page.text(Dashboard.figure("resets", b.id(), "Req/s")));
            page.release();
            assertEquals("0.0 %", page.text(Dashboard.figure("resets", b.id(), "Errors")), "the rate from the new count");
            assertEquals(List.of(), browser.consoleErrors());
        } finally {
            given().delete(server).then().statusCode(204);
            given().delete("/routes/all").then().statusCode(204);
            given().delete("/pools/resets").then().statusCode(204);
        }
    }
}
