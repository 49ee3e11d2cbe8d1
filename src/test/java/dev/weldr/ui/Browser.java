package dev.weldr.ui;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.logging.Level;

/**
 * Debian's headless {@code chromium}, driven by Debian's {@code chromedriver} through Selenium: one
 * browser for a test class ({@link #start()} in {@code @BeforeAll}, {@link #close()} in
 * {@code @AfterAll}), since each chromium costs a core for seconds on a 2-core machine.
 *
 * <p>Nothing is downloaded at run time: the driver's path is given to Selenium, so Selenium
 * Manager is never asked for one, and the browser's binary is given too. Nothing leaves loopback:
 * every request to a host that is not loopback goes to a proxy on 127.0.0.1 that closes each
 * connection unanswered ({@link #offLoopbackAttempts()} counts them; chromium's own background
 * traffic lands there too), and every name but localhost fails to resolve without a DNS query.
 *
 * <p>The browser console is read after each step and kept ({@link #console()}), so a test can say
 * "no console error". Screenshots go to {@code target/ui-screenshots/}; a wait that times out
 * takes one before it fails.
 */
public final class Browser implements AutoCloseable {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final List<String> PACKAGES = List.of("chromium", "chromium-driver", "fonts-liberation");

    /** A 14-inch laptop's viewport. */
    public static final Dimension LAPTOP = new Dimension(1366, 900);
    /** A phone's viewport, in CSS pixels (an iPhone 12 to 15, a Pixel 7 is close). */
    public static final Dimension PHONE = new Dimension(390, 844);
    /** How long a wait lasts before it fails: generous, for a loaded 2-core machine running five builds. */
    public static final Duration WAIT = Duration.ofSeconds(60);
    public static final Path SCREENSHOTS = Path.of("target", "ui-screenshots").toAbsolutePath();

    private final Sink sink;
    private final ChromeDriverService service;
    private final ChromeDriver driver;
    private final List<LogEntry> console = new ArrayList<>();
    private int failures;

    private Browser(Sink sink, ChromeDriverService service, ChromeDriver driver) {
        this.sink = sink;
        this.service = service;
        this.driver = driver;
    }

    /**
     * Starts a headless chromium with a laptop's viewport. Installs Debian's {@code chromium} and
     * {@code chromium-driver} when they are missing (as root, with apt-get), and skips the calling
     * test (JUnit assumption) only when they cannot be installed, saying why.
     */
    public static Browser start() {
        assumeInstalled();
        Sink sink = new Sink();
        ChromeDriverService service = null;
        try {
            Path logs = Files.createDirectories(Path.of("target", "ui-browser").toAbsolutePath());
            service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(CHROMEDRIVER.toFile())
                    .usingAnyFreePort()
                    .withLogFile(logs.resolve("chromedriver-" + ProcessHandle.current().pid() + ".log").toFile())
                    .build();
            ChromeOptions options = new ChromeOptions();
            options.setBinary(CHROMIUM.toFile());
            options.addArguments(
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--window-size=" + LAPTOP.getWidth() + "," + LAPTOP.getHeight(),
                    // Loopback is never proxied (chromium's implicit bypass); everything else reaches only the sink.
                    "--proxy-server=http://127.0.0.1:" + sink.port(),
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-default-apps", "--disable-extensions", "--no-first-run", "--no-default-browser-check",
                    "--disable-features=Translate,OptimizationHints,MediaRouter",
                    "--lang=en-US");
            options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().pageLoadTimeout(WAIT).scriptTimeout(WAIT);
            return new Browser(sink, service, driver);
        } catch (IOException e) {
            sink.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            if (service != null) {
                service.stop();
            }
            sink.close();
            throw e;
        }
    }

    /** Why installing failed in this JVM, so that each later test class does not wait for apt-get again. */
    private static String installFailure;

    /**
     * Installs the packages when chromium or its driver is missing. Skips the test, saying why, only
     * where they cannot be installed (no apt-get, not root); where apt-get runs as root and still
     * fails, the test fails, so that a machine meant to run these tests never passes without them.
     */
    static synchronized void assumeInstalled() {
        if (installed()) {
            return;
        }
        Path aptGet = Path.of("/usr/bin/apt-get");
        Assumptions.assumeTrue(Files.isExecutable(aptGet), "browser tests need Debian's chromium and chromium-driver ("
                + CHROMIUM + ", " + CHROMEDRIVER + "), and this machine has no apt-get to install them");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "browser tests need Debian's chromium and"
                + " chromium-driver (" + CHROMIUM + ", " + CHROMEDRIVER + "), and only root may install them: run"
                + " `apt-get install -y chromium chromium-driver` as root");
        if (installFailure == null) {
            System.out.println("browser tests: installing " + PACKAGES);
            // Bounded waits: another apt-get holding the lock, a mirror that does not answer.
            List<String> options = List.of("-o", "DPkg::Lock::Timeout=300", "-o", "Acquire::Retries=3",
                    "-o", "Acquire::http::Timeout=30");
            List<String> install = new ArrayList<>(List.of("apt-get", "install", "-y", "--no-install-recommends"));
            install.addAll(options);
            install.addAll(PACKAGES);
            String out = run(install);
            if (!installed()) {
                List<String> update = new ArrayList<>(List.of("apt-get", "update"));
                update.addAll(options);
                run(update);
                out = run(install);
            }
            if (!installed()) {
                installFailure = out.strip();
            }
        }
        if (installFailure != null) {
            Assertions.fail("browser tests need Debian's chromium and chromium-driver (" + CHROMIUM + ", " + CHROMEDRIVER
                    + "), and `apt-get install -y chromium chromium-driver` failed as root: " + installFailure);
        }
    }

    private static boolean installed() {
        return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    }

    /** Runs {@code cmd}, its output to a file (so the time limit holds however much it writes), and gives its last 4,000 characters. */
    private static String run(List<String> cmd) {
        Path log = null;
        try {
            log = Files.createTempFile("weldr-apt", ".log");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process p = pb.start();
            boolean ended = p.waitFor(900, TimeUnit.SECONDS);
            if (!ended) {
                p.destroyForcibly();
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            out = out.length() > 4000 ? out.substring(out.length() - 4000) : out;
            return ended ? out : out + " (" + String.join(" ", cmd) + " timed out after 900 s)";
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } finally {
            if (log != null) {
                try {
                    Files.deleteIfExists(log);
                } catch (IOException e) {
                    // a temporary file left behind is harmless
                }
            }
        }
    }

    public WebDriver driver() {
        return driver;
    }

    /**
     * Opens {@code url} in a new tab and closes the others: a new tab starts with an empty
     * sessionStorage, so nothing one test typed (a token) is seen by the next.
     */
    public void open(String url) {
        String old = driver.getWindowHandle();
        driver.switchTo().newWindow(WindowType.TAB);
        String fresh = driver.getWindowHandle();
        driver.switchTo().window(old).close();
        driver.switchTo().window(fresh);
        driver.get(url);
        console();
    }

    /** Sets the viewport to a laptop's ({@link #LAPTOP}) or a phone's ({@link #PHONE}). */
    public void viewport(Dimension size) {
        driver.manage().window().setSize(size);
    }

    /** Waits for a visible element, or fails with a screenshot. */
    public WebElement visible(By by) {
        return until(ExpectedConditions.visibilityOfElementLocated(by), by + " to be visible");
    }

    /**
     * Waits, polling every 100 ms for up to {@link #WAIT}, until {@code condition} gives neither
     * null nor false (an element gone stale, or not found yet, is looked for again); on a timeout saves a screenshot and fails, naming {@code what} and the
     * console's last lines.
     */
    public <T> T until(Function<? super WebDriver, T> condition, String what) {
        WebDriverWait wait = new WebDriverWait(driver, WAIT, Duration.ofMillis(100));
        // A page that redraws on each poll replaces the element a condition just found: look again.
        wait.ignoring(StaleElementReferenceException.class);
        try {
            return wait.until(condition);
        } catch (TimeoutException e) {
            Path shot = screenshot("timeout-" + (++failures) + "-" + slug(what));
            List<String> lines = format(console());
            throw new AssertionError("waited " + WAIT.toSeconds() + " s for " + what + "; screenshot " + shot
                    + "; console: " + lines.subList(Math.max(0, lines.size() - 10), lines.size()), e);
        } finally {
            console();
        }
    }

    /** Everything the console said since the browser started (each read drains chromium's buffer into this list). */
    public List<LogEntry> console() {
        console.addAll(driver.manage().logs().get(LogType.BROWSER).getAll());
        return List.copyOf(console);
    }

    /** The console's errors since the browser started: uncaught exceptions, console.error, failed loads. */
    public List<String> consoleErrors() {
        return format(console().stream().filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).toList());
    }

    /** Forgets what the console said so far: a test that expects errors (a refused token) keeps them to itself. */
    public void clearConsole() {
        console();
        console.clear();
    }

    private static List<String> format(List<LogEntry> entries) {
        return entries.stream().map(e -> e.getLevel() + " " + e.getMessage()).toList();
    }

    /** Saves the viewport as {@code target/ui-screenshots/<name>.png} and returns its path. */
    public Path screenshot(String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            Path file = SCREENSHOTS.resolve(slug(name) + ".png");
            Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String slug(String s) {
        String slug = s.replaceAll("[^A-Za-z0-9._-]+", "-");
        return slug.length() > 80 ? slug.substring(0, 80) : slug;
    }

    /** Connections chromium opened to a host that is not loopback (each closed unanswered). */
    public int offLoopbackAttempts() {
        return sink.connections.get();
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
            sink.close();
        }
    }

    /** Chromium's proxy for every host that is not loopback: accepts a connection and closes it. */
    private static final class Sink implements AutoCloseable {
        private final ServerSocket socket;
        private final AtomicInteger connections = new AtomicInteger();

        Sink() {
            try {
                socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Thread t = new Thread(this::accept, "browser-sink");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        private void accept() {
            while (!socket.isClosed()) {
                try (Socket s = socket.accept()) {
                    connections.incrementAndGet();
                } catch (IOException e) {
                    // closed: the browser is gone
                }
            }
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException e) {
                // nothing left to release
            }
        }
    }
}
