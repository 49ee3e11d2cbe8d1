package dev.weldr.ui;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
    void shouldCallOnlyThePublicAdminApiListedInTheReadme() throws IOException {
        String js = given().get("/ui/ui.js").then().statusCode(200).extract().asString();
        List<String> calls = calls(js);
        // Reads, writes and paths built from names alike: the check sees every kind of call.
        assertTrue(calls.containsAll(List.of("GET /cluster", "GET /pools?expand=servers", "GET /stats/detail", "GET /tokens/self",
                        "POST /pools/{}/servers", "PATCH /pools/{}/servers/{}/{}", "DELETE /pools/{}/servers/{}/{}", "POST /cluster/leader")),
                "calls seen: " + calls);
        List<Endpoint> listed = readmeAdminApi();
        for (String call : calls) {
            assertTrue(listed.stream().anyMatch(e -> e.covers(call)), call + " is not in README's Admin API table");
        }
        assertTrue(js.contains("sessionStorage") && !js.contains("localStorage") && !js.contains("document.cookie"),
                "the token is kept for the tab only, never in a cookie");
    }

    @Test
    void shouldTellACallOutsideTheReadmeFromOneInIt() throws IOException {
        String script = "read('/pools/' + encodeURIComponent(p) + '/private'); act('DELETE', '/secret/' + x, undefined);"
                + " act('POST', '/cluster/leader', { peer }); api('GET', '/tokens/self');";
        List<String> calls = calls(script);
        assertEquals(List.of("GET /pools/{}/private", "DELETE /secret/{}", "POST /cluster/leader", "GET /tokens/self"), calls);
        List<Endpoint> listed = readmeAdminApi();
        assertEquals(List.of(false, false, true, true), calls.stream().map(c -> listed.stream().anyMatch(e -> e.covers(c))).toList());
    }

    /**
     * Every call of the admin API in a script, as "METHOD /path?query", each part of the path
     * the script builds at run time written {}: read(PATH), api(METHOD, PATH…) and act(METHOD, PATH…).
     * {@code href} is a server's own link as the API gives it; {@code path} is a helper passing its argument on.
     */
    static List<String> calls(String js) {
        List<String> calls = new ArrayList<>();
        Matcher m = Pattern.compile("(function\\s+)?\\b(read|api|act)\\(").matcher(js);
        while (m.find()) {
            if (m.group(1) != null) {
                continue;
            }
            List<String> args = arguments(js, m.end());
            boolean read = m.group(2).equals("read");
            String method = read ? "'GET'" : args.get(0);
            String path = args.get(read ? 0 : 1);
            if (path.equals("path")) {
                continue;
            }
            assertTrue(method.matches("'[A-Z]+'"), "a call whose method is not written out: " + m.group(2) + args);
            String template = path.equals("href") ? "/pools/{}/servers/{}/{}" : template(path);
            calls.add(method.substring(1, method.length() - 1) + " " + template);
        }
        return calls;
    }

    /** The top-level arguments of the call whose '(' ends just before {@code from}. */
    private static List<String> arguments(String js, int from) {
        List<String> args = new ArrayList<>();
        int depth = 0;
        StringBuilder arg = new StringBuilder();
        for (int i = from; i < js.length(); i++) {
            char c = js.charAt(i);
            if (c == '\'') {
                int end = js.indexOf('\'', i + 1);
                arg.append(js, i, end + 1);
                i = end;
                continue;
            }
            if (depth == 0 && (c == ',' || c == ')')) {
                args.add(arg.toString().trim());
                arg.setLength(0);
                if (c == ')') {
                    return args;
                }
                continue;
            }
            if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            }
            arg.append(c);
        }
        throw new AssertionError("unclosed call at " + from);
    }

    /** '/pools/' + encodeURIComponent(p) + '/servers' is /pools/{}/servers. */
    private static String template(String expression) {
        StringBuilder t = new StringBuilder();
        for (String part : expression.split("\\s*\\+\\s*")) {
            t.append(part.matches("'[^']*'") ? part.substring(1, part.length() - 1) : "{}");
        }
        return t.toString();
    }

    /** A row of README's Admin API table: a method (null for all) and a path, {name} for any segment, [..] optional. */
    record Endpoint(String method, Pattern path, String row) {
        boolean covers(String call) {
            String method = call.substring(0, call.indexOf(' '));
            String target = call.substring(call.indexOf(' ') + 1);
            String bare = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
            if (!(this.method == null || this.method.equals(method)) || !path.matcher(bare.replace("{}", "x")).matches()) {
                return false;
            }
            // Each query parameter the call sends is one the row names.
            return !target.contains("?") || Pattern.compile("&").splitAsStream(target.substring(target.indexOf('?') + 1))
                    .allMatch(p -> row.contains(p.substring(0, p.indexOf('=') + 1)));
        }
    }

    static List<Endpoint> readmeAdminApi() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("\n## Admin API");
        String section = readme.substring(start, readme.indexOf("\n## ", start + 1));
        List<Endpoint> endpoints = new ArrayList<>();
        for (String line : section.split("\n")) {
            if (!line.startsWith("| `")) {
                continue;
            }
            String first = line.split("\\|")[1];
            Matcher code = Pattern.compile("`([^`]+)`").matcher(first);
            while (code.find()) {
                Matcher call = Pattern.compile("^(?:(GET|POST|PUT|PATCH|DELETE) )?(/[^\\s?]*)").matcher(code.group(1));
                if (call.find()) {
                    String regex = Pattern.quote(call.group(2)).replace("[", "\\E(?:\\Q").replace("]", "\\E)?\\Q")
                            .replaceAll("\\{[a-z]+\\}", "\\\\E[^/]+\\\\Q");
                    endpoints.add(new Endpoint(call.group(1), Pattern.compile(regex), first));
                }
            }
        }
        assertTrue(endpoints.size() > 20, "README's Admin API table read: " + endpoints);
        return endpoints;
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
