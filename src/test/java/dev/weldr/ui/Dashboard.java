package dev.weldr.ui;

import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

import java.util.List;

/**
 * The /ui page as the browser tests see it: every element id and attribute the tests rely on is
 * named here once, so a change to the page's markup is one change to the tests.
 */
final class Dashboard {

    private final Browser browser;
    private final String admin;

    /** {@code admin}: the node's admin URL, {@code http://127.0.0.1:PORT}. */
    Dashboard(Browser browser, String admin) {
        this.browser = browser;
        this.admin = admin;
    }

    /** Opens /ui in a fresh tab (an empty sessionStorage: no token yet). */
    Dashboard open() {
        browser.open(admin + "/ui");
        return this;
    }

    /** Hands the leadership to {@code peer} (a Raft id) with its "Make leader" button, and confirms. */
    void makeLeader(String peer) {
        click(By.cssSelector("#nodes button[data-action='transfer'][data-peer='" + peer + "']"), "make " + peer + " the leader");
        click(By.id("confirm-ok"), "the confirmation dialog's button");
    }

    /** Waits until the page shows the node's state (it had what it needed: no token, or a good one). */
    Dashboard awaitShown() {
        browser.visible(By.id("main"));
        browser.until(ExpectedConditions.textMatches(By.id("updated"), java.util.regex.Pattern.compile("^updated ")),
                "the page to read the admin API");
        return this;
    }

    /** Waits until the page asks for a token, and returns what it says above the field (empty the first time). */
    String awaitTokenAsked() {
        browser.visible(By.id("token-input"));
        browser.until(ExpectedConditions.invisibilityOfElementLocated(By.id("main")), "the node's state to be hidden");
        return browser.driver().findElement(By.id("token-error")).getText();
    }

    /** Waits until the page says, above the token field, that the token it sent was refused. */
    void awaitTokenRefused() {
        browser.until(ExpectedConditions.textToBePresentInElementLocated(By.id("token-error"), "refused"),
                "the page to say the token was refused");
    }

    void enterToken(String token) {
        WebElement input = browser.visible(By.id("token-input"));
        input.clear();
        input.sendKeys(token);
        browser.driver().findElement(By.id("token-submit")).click();
    }

    static By server(String pool, String id) {
        return By.cssSelector("#pool-list tr[data-pool='" + pool + "'][data-server='" + id + "']");
    }

    /** Waits until the row of server {@code id} (ip:port) in {@code pool} shows {@code state} (the text, not a colour). */
    String awaitState(String pool, String id, String state) {
        By cell = By.cssSelector("#pool-list tr[data-pool='" + pool + "'][data-server='" + id + "'] .state");
        return browser.until(d -> {
            List<WebElement> found = d.findElements(cell);
            String text = found.isEmpty() ? "" : found.get(0).getText();
            return text.startsWith(state) ? text : null;
        }, "server " + id + " of pool " + pool + " to be shown " + state);
    }

    /** A figure of a server's row, by its column's label (the cells' {@code data-label}: "Req/s", "Errors"…). */
    static By figure(String pool, String id, String label) {
        return By.cssSelector("#pool-list tr[data-pool='" + pool + "'][data-server='" + id + "'] td[data-label='" + label + "']");
    }

    void awaitGone(String pool, String id) {
        browser.until(ExpectedConditions.numberOfElementsToBe(server(pool, id), 0),
                "server " + id + " of pool " + pool + " to leave the page");
    }

    static By action(String action, String pool, String id) {
        return By.cssSelector("button[data-action='" + action + "'][data-pool='" + pool + "'][data-server='" + id + "']");
    }

    /** Clicks an action's button on a server's row, and confirms it in the dialog. */
    void act(String action, String pool, String id) {
        click(action(action, pool, id), action + " on " + id);
        click(By.id("confirm-ok"), "the confirmation dialog's button");
    }

    /**
     * Adds a server to {@code pool} with the page's "Add a server" button, typing its URL and
     * weight in the dialog, and confirms.
     */
    void addServer(String pool, String url, int weight) {
        click(By.cssSelector("button[data-action='add'][data-pool='" + pool + "']"), "add a server to " + pool);
        type(By.id("dialog-url"), url);
        type(By.id("dialog-weight"), String.valueOf(weight));
        click(By.id("confirm-ok"), "the confirmation dialog's button");
    }

    /** Sets a server's weight with its "Weight" button and the dialog. */
    void changeWeight(String pool, String id, int weight) {
        click(action("weight", pool, id), "weight of " + id);
        type(By.id("dialog-weight"), String.valueOf(weight));
        click(By.id("confirm-ok"), "the confirmation dialog's button");
    }

    /**
     * Drains a server with the keyboard alone: Tab from the top of the page until its button has
     * the focus, Enter opens the dialog, Tab reaches its confirm button and Enter presses it.
     */
    void drainWithKeys(String pool, String id) {
        browser.until(ExpectedConditions.elementToBeClickable(action("drain", pool, id)), "drain on " + id);
        // From the top, as a person who just opened the page: the focus on the document itself.
        ((JavascriptExecutor) browser.driver()).executeScript("document.activeElement.blur(); window.scrollTo(0, 0);");
        tabTo(action("drain", pool, id), 40, "the drain button of " + id);
        new org.openqa.selenium.interactions.Actions(browser.driver()).sendKeys(org.openqa.selenium.Keys.ENTER).perform();
        // The dialog may focus Cancel first (the safe choice): Tab moves on, within the modal dialog.
        tabTo(By.id("confirm-ok"), 5, "the dialog's confirm button");
        new org.openqa.selenium.interactions.Actions(browser.driver()).sendKeys(org.openqa.selenium.Keys.ENTER).perform();
    }

    /** Presses Tab, at most {@code most} times, until the element {@code by} has the focus. */
    private void tabTo(By by, int most, String what) {
        for (int tabs = 0; ; tabs++) {
            List<WebElement> target = browser.driver().findElements(by);
            WebElement focused = browser.driver().switchTo().activeElement();
            if (!target.isEmpty() && target.get(0).equals(focused)) {
                return;
            }
            if (tabs == most) {
                throw new AssertionError(most + " Tabs never reached " + what + "; focus is on <" + focused.getTagName() + "> "
                        + focused.getText());
            }
            new org.openqa.selenium.interactions.Actions(browser.driver()).sendKeys(org.openqa.selenium.Keys.TAB).perform();
        }
    }

    /**
     * From now on, counts what the page does: its calls to the admin API (the browser's own record
     * of them, Resource Timing, emptied first), the changes to {@code #node} (a live region: each
     * one is read out), and the elements put into or taken out of {@code #pool-list}.
     */
    void watch() {
        ((JavascriptExecutor) browser.driver()).executeScript("""
                performance.setResourceTimingBufferSize(100000);
                performance.clearResourceTimings();
                const w = window.weldrTestWatch = { node: 0, elements: 0 };
                new MutationObserver((ms) => { w.node += ms.length; })
                    .observe(document.getElementById('node'), { childList: true, characterData: true, subtree: true });
                new MutationObserver((ms) => { for (const m of ms) for (const n of [...m.addedNodes, ...m.removedNodes]) if (n.nodeType === 1) w.elements++; })
                    .observe(document.getElementById('pool-list'), { childList: true, subtree: true });
                """);
    }

    /** The page's calls answered since {@link #watch()}, by path (no query): how many of each. */
    java.util.Map<String, Long> calls() {
        List<?> paths = (List<?>) ((JavascriptExecutor) browser.driver()).executeScript(
                "return performance.getEntriesByType('resource').filter((e) => e.initiatorType === 'fetch').map((e) => new URL(e.name).pathname);");
        return paths.stream().map(String::valueOf).collect(java.util.stream.Collectors.groupingBy(p -> p, java.util.TreeMap::new,
                java.util.stream.Collectors.counting()));
    }

    /** Changes to {@code #node} since {@link #watch()}. */
    long nodeChanges() {
        return (Long) ((JavascriptExecutor) browser.driver()).executeScript("return window.weldrTestWatch.node;");
    }

    /** Elements put into or taken out of {@code #pool-list} since {@link #watch()}. */
    long poolElementsChanged() {
        return (Long) ((JavascriptExecutor) browser.driver()).executeScript("return window.weldrTestWatch.elements;");
    }

    /**
     * Holds the page's calls whose path has {@code prefix}: each is sent only when
     * {@link #release()} lets it go, so the test decides when a poll's reading is taken. The
     * answer reaches the page as the page reads it (status and body).
     */
    void hold(String prefix) {
        ((JavascriptExecutor) browser.driver()).executeScript("""
                const prefix = arguments[0];
                const held = window.weldrTestHeld = [];
                const fetch = window.fetch;
                window.fetch = (path, init) => String(path).includes(prefix)
                    ? new Promise((go) => held.push(go)).then(() => fetch(path, init))
                    : fetch(path, init);
                """, prefix);
    }

    /**
     * Holds the answers to the page's calls whose path has {@code part}: each is sent and answered,
     * and reaches the page only when {@link #releaseAnswers()} lets it go.
     */
    void holdAnswers(String part) {
        ((JavascriptExecutor) browser.driver()).executeScript("""
                const part = arguments[0];
                const held = window.weldrTestHeld = [];
                const fetch = window.fetch;
                // The answer as the page reads it, its body already read: once let go, the page has all of it at once.
                window.fetch = (path, init) => !String(path).includes(part) ? fetch(path, init)
                    : fetch(path, init).then((r) => r.text().then((text) => new Promise((go) => held.push(
                        () => go({ status: r.status, ok: r.ok, text: () => Promise.resolve(text) })))));
                """, part);
    }

    /**
     * Lets the held answers reach the page, and returns once the page has done with them: the
     * page goes on from an answer in promise reactions alone, all run before the next task.
     */
    void releaseAnswers() {
        ((JavascriptExecutor) browser.driver()).executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                window.weldrTestHeld.splice(0).forEach((go) => go());
                setTimeout(() => setTimeout(done, 0), 0);
                """);
    }

    /** Waits until the page has a held call waiting, which means its poll waits for it. */
    void awaitHeld() {
        browser.until(d -> ((Long) ((JavascriptExecutor) d).executeScript("return window.weldrTestHeld.length;")) > 0 ? true : null,
                "the page to make a held call");
    }

    /**
     * Lets the held calls go and waits until the page has drawn what they answered: the page polls
     * one at a time, so its next held call means the one let go has been answered and shown.
     */
    void release() {
        ((JavascriptExecutor) browser.driver()).executeScript("window.weldrTestHeld.splice(0).forEach((go) => go());");
        awaitHeld();
    }

    private void type(By by, String text) {
        WebElement input = browser.visible(by);
        input.clear();
        input.sendKeys(text);
    }

    /** Scrolls the section {@code id} to the top of the window, for a screenshot of it. */
    void scrollTo(String id) {
        ((JavascriptExecutor) browser.driver()).executeScript("document.getElementById(arguments[0]).scrollIntoView();", id);
    }

    /** Scrolls to the top, for a screenshot of the page as it opens. */
    void top() {
        ((JavascriptExecutor) browser.driver()).executeScript("window.scrollTo(0, 0);");
    }

    /** Clicks once the element can be clicked; a button the page redrew in between is found again. */
    private void click(By by, String what) {
        browser.until(d -> {
            WebElement e = ExpectedConditions.elementToBeClickable(by).apply(d);
            if (e == null) {
                return null;
            }
            e.click();
            return true;
        }, what + " to be clicked");
    }

    /**
     * Waits until the page shows the API's answer to a {@code method} call with {@code status}
     * (the page writes {@code METHOD /path → STATUS} above the answer's body), and returns it.
     */
    String awaitAnswer(String method, int status) {
        java.util.regex.Pattern shown = java.util.regex.Pattern.compile("^" + method + " \\S+ \u2192 " + status + "\\b");
        return browser.until(d -> {
            String text = d.findElement(By.id("answer")).getText();
            return shown.matcher(text).find() ? text : null;
        }, "the page to show the answer " + status + " to " + method);
    }

    /**
     * Waits until the cluster table lists {@code n} members, and returns each member's role as
     * the page shows it (Raft id to role, in the page's order).
     */
    java.util.Map<String, String> awaitPeers(int n) {
        By rows = By.cssSelector("#nodes tbody tr[data-peer]");
        browser.until(ExpectedConditions.numberOfElementsToBe(rows, n), n + " members in the cluster table");
        // Read inside a wait: the page redraws the table on each poll, and a stale row is read again.
        return browser.until(d -> {
            java.util.Map<String, String> roles = new java.util.LinkedHashMap<>();
            for (WebElement row : d.findElements(rows)) {
                roles.put(row.getAttribute("data-peer"), row.findElements(By.tagName("td")).get(1).getText());
            }
            return roles.size() == n ? roles : null;
        }, "the roles of " + n + " members");
    }

    /** The {@code data-action} of every action button a person can see (read again if the page redraws meanwhile). */
    List<String> visibleActions() {
        return browser.until(d -> d.findElements(By.cssSelector("button[data-action]")).stream()
                .filter(WebElement::isDisplayed).map(e -> e.getAttribute("data-action")).toList(), "the visible actions");
    }

    /** The text of a cell, read again if the page redraws it meanwhile. */
    String text(By by) {
        return browser.until(d -> d.findElement(by).getText(), "the text of " + by);
    }

    /** Marks the document; {@link #sameDocument()} is true until the page reloads or navigates. */
    void mark() {
        ((JavascriptExecutor) browser.driver()).executeScript("window.weldrTestMark = 'kept';");
    }

    boolean sameDocument() {
        return "kept".equals(((JavascriptExecutor) browser.driver()).executeScript("return window.weldrTestMark;"));
    }

    /**
     * Whether a person sees all of {@code element} once the window is scrolled down to it: both ends
     * of its middle line are inside the viewport and are the element's own pixels, not clipped by a
     * scrolling box nor covered by something else.
     */
    private boolean seenWhole(WebElement element) {
        return Boolean.TRUE.equals(((JavascriptExecutor) browser.driver()).executeScript("""
                const e = arguments[0];
                window.scrollBy(0, e.getBoundingClientRect().top - window.innerHeight / 2);
                const r = e.getBoundingClientRect();
                if (r.width === 0 || r.left < 0 || r.right > window.innerWidth) return false;
                const y = r.top + r.height / 2;
                const mine = (x) => { const h = document.elementFromPoint(x, y); return h !== null && (h === e || e.contains(h)); };
                return mine(r.left + 1) && mine(r.right - 1);
                """, element));
    }

    /**
     * What a person cannot see whole of a server's row (its URL, its state and every action's
     * button), by text: empty when all is seen. Read again if the page redraws the row meanwhile.
     */
    List<String> clipped(String pool, String id) {
        String row = "#pool-list tr[data-pool='" + pool + "'][data-server='" + id + "'] ";
        browser.visible(By.cssSelector(row + "button[data-action]"));
        return browser.until(d -> {
            List<WebElement> parts = new java.util.ArrayList<>(d.findElements(By.cssSelector(row + "td:first-child")));
            parts.addAll(d.findElements(By.cssSelector(row + ".state")));
            parts.addAll(d.findElements(By.cssSelector(row + "button[data-action]")));
            return parts.size() < 3 ? null : parts.stream().filter(e -> !seenWhole(e)).map(WebElement::getText).toList();
        }, "the parts of server " + id + "'s row");
    }

    /**
     * Waits until the "Recent events" list shows an event of {@code kind} about server {@code id}
     * whose text has {@code containing}, and returns its text.
     */
    String awaitEvent(String kind, String id, String containing) {
        By item = By.cssSelector("#event-list li[data-kind='" + kind + "'][data-server='" + id + "']");
        return browser.until(d -> d.findElements(item).stream().map(WebElement::getText).filter(t -> t.contains(containing))
                .findFirst().orElse(null), "a " + kind + " event of " + id + " with '" + containing + "' in the events");
    }

    /**
     * Whether {@code by}'s element lies whole inside the viewport as the page stands, without
     * scrolling: what a person sees without moving. Read again if the page redraws it meanwhile.
     */
    boolean inViewport(By by) {
        // Wrapped: a wait ends on anything but null or false, and false is an answer here.
        return browser.until(d -> java.util.Optional.of((Boolean) ((JavascriptExecutor) d).executeScript("""
                const r = arguments[0].getBoundingClientRect();
                return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
                """, d.findElement(by))), "the position of " + by).get();
    }

    /**
     * The line of a server's first chart (requests per second) against the chart: how many
     * samples it joins, and its width as a share of the chart's width; null while it has no line.
     */
    double[] rateChart(String pool, String id) {
        Object r = ((JavascriptExecutor) browser.driver()).executeScript("""
                const svg = document.querySelector(arguments[0]);
                const line = svg && svg.querySelector('polyline');
                if (!line) return null;
                return [line.getAttribute('points').trim().split(/\\s+/).length,
                        line.getBoundingClientRect().width / svg.getBoundingClientRect().width];
                """, "#pool-list tr[data-pool='" + pool + "'][data-server='" + id + "'] td.charts svg");
        if (r == null) {
            return null;
        }
        List<?> values = (List<?>) r;
        return new double[]{((Number) values.get(0)).doubleValue(), ((Number) values.get(1)).doubleValue()};
    }

    /** The page's width beyond the viewport's, in CSS pixels: above 0, a person must scroll sideways. */
    long overflowX() {
        return (Long) ((JavascriptExecutor) browser.driver()).executeScript(
                "return Math.max(0, document.documentElement.scrollWidth - window.innerWidth);");
    }
}
