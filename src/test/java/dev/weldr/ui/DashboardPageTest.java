package dev.weldr.ui;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /ui}: the page, its stylesheet and its script come from the jar with a
 * Content-Security-Policy that forbids inline code, and the page holds no inline code, loads
 * nothing from elsewhere, and reads only the public admin API.
 */
@QuarkusTest
class DashboardPageTest {

    private static final Pattern TAG = Pattern.compile("<(script|link|img|iframe|object|embed)\\b([^>]*)>", Pattern.CASE_INSENSITIVE);
    private static final Pattern ATTRIBUTE = Pattern.compile("\\s([a-zA-Z-]+)\\s*=\\s*\"([^\"]*)\"");

    @Test
    void shouldRedirectUiToTheDirectorySoThatRelativeFilesResolve() {
        given().redirects().follow(false).get("/ui").then()
                .statusCode(301)
                .header("Location", "/ui/");
    }

    @Test
    void shouldServeThePageWithAPolicyThatForbidsInlineCode() {
        Response page = given().get("/ui/");
        page.then().statusCode(200)
                .contentType(containsString("text/html"))
                .header("Content-Security-Policy", containsString("default-src 'self'"))
                .header("Content-Security-Policy", not(containsString("unsafe-inline")))
                .header("Content-Security-Policy", not(containsString("unsafe-eval")))
                .header("X-Content-Type-Options", "nosniff")
                .header("Set-Cookie", equalTo(null));
        String html = page.asString();
        assertTrue(html.contains("id=\"pool-list\""), "the page is the dashboard");

        Matcher tags = TAG.matcher(html);
        while (tags.find()) {
            if (tags.group(1).equalsIgnoreCase("script")) {
                assertTrue(attribute(tags.group(2), "src") != null, "every script has a src: " + tags.group());
            }
        }
        assertFalse(Pattern.compile("<script\\b[^>]*>\\s*\\S", Pattern.CASE_INSENSITIVE).matcher(html.replaceAll("<script[^>]*></script>", "")).find(),
                "no script has a body");
        assertFalse(Pattern.compile("<style\\b", Pattern.CASE_INSENSITIVE).matcher(html).find(), "no <style> element");
        assertFalse(Pattern.compile("\\sstyle\\s*=", Pattern.CASE_INSENSITIVE).matcher(html).find(), "no style= attribute");
        assertFalse(Pattern.compile("\\son[a-z]+\\s*=", Pattern.CASE_INSENSITIVE).matcher(html).find(), "no on*= handler");
        assertFalse(html.contains("javascript:"), "no javascript: URL");
    }

    @Test
    void shouldServeEveryReferencedFileFromTheJarAndNothingFromElsewhere() {
        String html = given().get("/ui/").then().statusCode(200).extract().asString();
        List<String> files = new ArrayList<>();
        Matcher tags = TAG.matcher(html);
        while (tags.find()) {
            String ref = attribute(tags.group(2), tags.group(1).equalsIgnoreCase("link") ? "href" : "src");
            if (ref != null) {
                files.add(ref);
            }
        }
        // The icon is named so that the browser does not ask for /favicon.ico, which is not there.
        assertEquals(List.of("favicon.svg", "ui.css", "ui.js"), files, "the page loads its icon, one stylesheet and one script");
        given().get("/ui/favicon.svg").then().statusCode(200).contentType(containsString("image/svg"));
        given().get("/ui/ui.css").then().statusCode(200).contentType(containsString("text/css"))
                .header("Content-Security-Policy", containsString("default-src 'self'"));
        given().get("/ui/ui.js").then().statusCode(200).contentType(containsString("javascript"));

        for (String file : List.of("/ui/", "/ui/ui.css", "/ui/ui.js", "/ui/favicon.svg")) {
            String text = given().get(file).asString();
            assertFalse(Pattern.compile("(https?:)?//[a-z0-9.-]+\\.[a-z]{2,}", Pattern.CASE_INSENSITIVE)
                            .matcher(text.replace("http://www.w3.org/2000/svg", "").replace("http://127.0.0.1:8080", "")).find(),
                    file + " names no other site (no CDN, no external font)");
            assertFalse(text.contains("@import") || text.contains("url("), file + " imports nothing");
        }
    }

    @Test
    void shouldReadOnlyThePublicAdminApi() {
        String js = given().get("/ui/ui.js").then().statusCode(200).extract().asString();
        Matcher paths = Pattern.compile("(?:read|api)\\((?:'[A-Z]+', )?'(/[^']*)'\\s*[),]").matcher(js);
        List<String> seen = new ArrayList<>();
        while (paths.find()) {
            seen.add(paths.group(1));
        }
        assertFalse(seen.isEmpty(), "the script calls the API");
        for (String path : seen) {
            String bare = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
            assertTrue(given().get("/q/openapi?format=json").asString().contains("\"" + bare + "\""),
                    path + " is in the OpenAPI document");
        }
        assertTrue(js.contains("sessionStorage") && !js.contains("localStorage") && !js.contains("document.cookie"),
                "the token is kept for the tab only, never in a cookie");
    }

    @Test
    void shouldSayWhoTheCallerIsOnANodeWithoutTokens() {
        given().get("/tokens/self").then().statusCode(200)
                .body("name", equalTo("anonymous"))
                .body("scope", equalTo("admin"));
    }

    private static String attribute(String attributes, String name) {
        Matcher m = ATTRIBUTE.matcher(attributes);
        while (m.find()) {
            if (m.group(1).equalsIgnoreCase(name)) {
                return m.group(2);
            }
        }
        return null;
    }
}
