package dev.weldr.ui;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The /ui page on a node that needs a token (a tokens file with an admin and a read token): it
 * asks for one, refuses a wrong one and asks again, keeps a good one for the tab only (never a
 * cookie), and with a read token shows no action.
 */
@QuarkusTest
@TestProfile(DashboardTokenBrowserTest.WithTokens.class)
class DashboardTokenBrowserTest {

    // A fixed path: the class is loaded twice (by JUnit and by Quarkus), and both must name the same file.
    static final Path FILE = Path.of("target", "test-tokens", "DashboardTokenBrowserTest", "tokens").toAbsolutePath();
    private static final String OPS = "ops-ui-0123456789abcdef";
    private static final String VIEWER = "viewer-ui-0123456789abcdef";

    public static class WithTokens implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Files.createDirectories(FILE.getParent());
                Files.writeString(FILE, "ops:admin:" + OPS + "\nviewer:read:" + VIEWER + "\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("weldr.admin.tokens-file", FILE.toString());
        }
    }

    private static Browser browser;
    private static SwitchableBackend backend;
    private Dashboard page;

    @BeforeAll
    static void start() {
        browser = Browser.start();
        backend = new SwitchableBackend();
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @BeforeEach
    void setUp() {
        given().header("Authorization", "Bearer " + OPS).body("{\"url\":\"" + backend.url() + "\"}").post("/servers")
                .then().statusCode(201);
        browser.viewport(Browser.LAPTOP);
        browser.clearConsole();
        page = new Dashboard(browser, "http://127.0.0.1:" + RestAssured.port);
    }

    @AfterEach
    void tearDown() {
        given().header("Authorization", "Bearer " + OPS).delete("/servers/" + backend.id().replace(':', '/'))
                .then().statusCode(204);
    }

    private Object sessionStorage(String script) {
        return ((JavascriptExecutor) browser.driver()).executeScript(script);
    }

    @Test
    void shouldRefuseAWrongTokenAskAgainAndTakeTheRightOne() {
        page.open();
        assertEquals("", page.awaitTokenAsked(), "the first question should not speak of a refusal");
        browser.screenshot("dashboard-token");

        page.enterToken("not-a-token-0123456789abcdef");
        page.awaitTokenAsked();
        page.awaitTokenRefused();
        assertTrue(browser.driver().findElements(Dashboard.server("default", backend.id())).stream().noneMatch(e -> e.isDisplayed()),
                "a refused token shows the pool");
        browser.screenshot("dashboard-token-refused");

        page.enterToken(OPS);
        page.awaitShown();
        page.awaitState("default", backend.id(), "active");
        assertTrue(!page.visibleActions().isEmpty(), "an admin token shows the actions");
        assertEquals(List.of(), browser.driver().manage().getCookies().stream().map(Object::toString).toList(),
                "the token must never be a cookie");
        assertTrue(String.valueOf(sessionStorage("return JSON.stringify(Object.values(sessionStorage));")).contains(OPS),
                "the token is kept in the tab's sessionStorage");

        // A new tab has its own sessionStorage: the token is the first tab's only.
        page.open();
        page.awaitTokenAsked();
    }

    @Test
    void shouldHideTheActionsFromAReadToken() {
        page.open();
        page.awaitTokenAsked();
        // The page learnt that a token is needed from a 401, which chromium logs as an error: that one is expected.
        browser.clearConsole();
        page.enterToken(VIEWER);
        page.awaitShown();
        page.awaitState("default", backend.id(), "active");
        assertEquals(List.of(), page.visibleActions(),
                "a read token sees actions");
        browser.screenshot("dashboard-read-token");
        assertEquals(List.of(), browser.consoleErrors(), "console errors with a read token");
    }

    @Test
    void shouldShowNothingOfTheNodeOnceTheTokenIsForgottenEvenFromAPollInFlight() {
        page.open();
        page.awaitTokenAsked();
        page.enterToken(OPS);
        page.awaitShown();
        page.awaitState("default", backend.id(), "active");
        // A poll waits for the servers' answer (sent with the token) while "Forget token" is pressed.
        page.holdAnswers("servers");
        page.awaitHeld();
        browser.driver().findElement(By.id("logout")).click();
        page.awaitTokenAsked();

        page.releaseAnswers();
        assertFalse(browser.driver().findElement(By.id("main")).isDisplayed(),
                "the answer to a poll begun with the forgotten token showed the node's state again");
        assertTrue(browser.driver().findElement(By.id("token-input")).isDisplayed(), "the page asks for a token");
        assertFalse(browser.driver().findElement(By.id("logout")).isDisplayed(), "no token to forget");
    }
}
