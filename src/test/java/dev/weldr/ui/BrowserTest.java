package dev.weldr.ui;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.support.ui.ExpectedConditions;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The browser fixture itself, against static pages served on 127.0.0.1 from
 * {@code src/test/resources/ui-fixture}: it reads a page, hears the console's errors (so "no
 * console error" in the page tests means something), sizes the viewport, saves screenshots, and
 * keeps the browser on loopback.
 */
class BrowserTest {

    private static HttpServer server;
    private static Browser browser;

    @BeforeAll
    static void start() throws IOException {
        browser = Browser.start();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String name = exchange.getRequestURI().getPath().substring(1);
            try (exchange; InputStream in = name.matches("[a-z]+\\.(html|js)")
                    ? BrowserTest.class.getResourceAsStream("/ui-fixture/" + name) : null) {
                if (in == null) {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                byte[] body = in.readAllBytes();
                exchange.getResponseHeaders().set("Content-Type",
                        name.endsWith(".js") ? "text/javascript" : "text/html; charset=utf-8");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        });
        server.start();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop(0);
        }
        if (browser != null) {
            browser.close();
        }
    }

    @BeforeEach
    void laptop() {
        browser.viewport(Browser.LAPTOP);
        browser.clearConsole();
    }

    private static String url(String page) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + page;
    }

    @Test
    void shouldReadAPageAndHearNoErrorFromAQuietOne() throws IOException {
        browser.open(url("quiet.html"));
        assertEquals("weldr browser fixture", browser.visible(By.id("title")).getText());
        browser.until(ExpectedConditions.textToBe(By.id("width"), String.valueOf(Browser.LAPTOP.getWidth())),
                "the laptop viewport to be " + Browser.LAPTOP.getWidth() + " CSS pixels wide");
        assertEquals(List.of(), browser.consoleErrors());

        Path shot = browser.screenshot("fixture-quiet-laptop");
        byte[] png = Files.readAllBytes(shot);
        assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "not a PNG: " + shot);
    }

    @Test
    void shouldSizeTheViewportOfAPhone() {
        browser.viewport(Browser.PHONE);
        browser.open(url("quiet.html"));
        browser.until(ExpectedConditions.textToBe(By.id("width"), String.valueOf(Browser.PHONE.getWidth())),
                "the phone viewport to be " + Browser.PHONE.getWidth() + " CSS pixels wide");
        browser.screenshot("fixture-quiet-phone");
    }

    @Test
    void shouldHearAConsoleErrorAndAnUncaughtException() {
        browser.open(url("failing.html"));
        browser.until(ExpectedConditions.textToBe(By.id("ran"), "yes"), "the failing script to run");
        List<String> errors = browser.until(d -> {
            List<String> e = browser.consoleErrors();
            return e.size() >= 2 ? e : null;
        }, "two console errors");
        assertTrue(errors.stream().anyMatch(e -> e.contains("fixture: a deliberate console error")), errors.toString());
        assertTrue(errors.stream().anyMatch(e -> e.contains("Uncaught Error: fixture: a deliberate uncaught error")),
                errors.toString());

        browser.clearConsole();
        assertEquals(List.of(), browser.consoleErrors(), "cleared");
    }

    @Test
    void shouldSendNothingBeyondLoopback() {
        int before = browser.offLoopbackAttempts();
        browser.open(url("offsite.html"));
        browser.until(ExpectedConditions.textToBe(By.id("result"), "refused"), "the off-loopback fetch to fail");
        assertTrue(browser.offLoopbackAttempts() > before,
                "the request for a host beyond loopback did not reach the browser's sink proxy");
    }
}
