package dev.weldr.acme;

import dev.weldr.cluster.Leadership;
import dev.weldr.cluster.PoolHolder;
import dev.weldr.cluster.PoolService;
import dev.weldr.config.WeldrConfig;
import dev.weldr.pool.AcmeAccount;
import dev.weldr.pool.AcmeChallenge;
import dev.weldr.pool.Certificate;
import dev.weldr.pool.ManagedCertificate;
import dev.weldr.pool.ManagedCertificate.State;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.Topology;
import dev.weldr.tls.CertificateBundle;
import dev.weldr.tls.CertificateStore;
import dev.weldr.tls.InvalidCertificateException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Challenge;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.challenge.TlsAlpn01Challenge;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.exception.AcmeServerException;

import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.net.URL;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The leader's ACME work: the account, the orders and the renewals of managed certificates.
 * Only the leader talks to the CA; it starts on the leadership event and stops (interrupting a
 * wait on the CA) when leadership goes. Everything it learns that another leader would need —
 * the account key, an order's URL and key, its challenges, the issued certificate, a failure
 * and when to try again — is committed through Raft before the step that depends on it, so a
 * new leader resumes an order where the old one left it rather than placing a second one (an
 * order is placed again only if the old leader died between the CA's answer and the commit).
 *
 * <p>One thread does it all, one certificate at a time: orders are rare, and a CA's rate limits
 * reward going slowly. acme4j does the protocol (JWS, nonces and their retries, polling with
 * {@code Retry-After}); this class decides what to ask and what to replicate.
 */
@ApplicationScoped
public class AcmeOrders {

    private static final Logger LOG = Logger.getLogger(AcmeOrders.class);
    /** How long one attempt waits for the CA to validate or to issue before it counts as failed. */
    static final Duration ORDER_TIMEOUT = Duration.ofMinutes(3);
    /** The longest wait between retries (certmagic's too); past it a failing order retries every 6 h. */
    static final Duration MAX_BACKOFF = Duration.ofHours(6);
    /** A leader with nothing due still looks once an hour (a clock that jumped, an ARI window that moved). */
    private static final long IDLE_CHECK_MS = Duration.ofHours(1).toMillis();

    @Inject
    PoolService pool;
    @Inject
    PoolHolder holder;
    @Inject
    Leadership leadership;
    @Inject
    CertificateStore certificates;
    @Inject
    WeldrConfig config;
    @Inject
    MeterRegistry registry;

    private AcmeSettings settings;
    private ScheduledExecutorService worker;
    /** The check under way or scheduled next; cancelled (interrupted) when leadership goes. */
    private Future<?> pending;
    /** A check is running; {@code again}: something changed meanwhile, check once more when it ends. */
    private boolean running;
    private boolean again;
    private Session session;
    private boolean warnedUnusable;
    private Map<String, ManagedCertificate> seen;
    private Counter issued;
    private Counter failed;

    void start(@Observes @Priority(61) StartupEvent event) {
        settings = AcmeSettings.of(config.acme());
        worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "weldr-acme");
            t.setDaemon(true);
            return t;
        });
        leadership.subscribe(state -> {
            if (state.role() == Leadership.Role.LEADER) {
                soon();
            } else {
                stopWork();
            }
        });
        holder.subscribe(this::applied);
        issued = Counter.builder("weldr.acme.orders").tag("result", "issued")
                .description("ACME orders this node completed as leader, by result").register(registry);
        failed = Counter.builder("weldr.acme.orders").tag("result", "failed")
                .description("ACME orders this node completed as leader, by result").register(registry);
        for (State s : State.values()) {
            Gauge.builder("weldr.acme.certificates", holder, h -> count(h.current(), s)).tag("state", s.name().toLowerCase())
                    .description("Certificates managed through ACME, by state (replicated: the same on every node)")
                    .register(registry);
        }
    }

    /** Why this node cannot order certificates (it lacks the account's settings), or null. */
    public String unusable() {
        return settings.unusable();
    }

    /** The challenge type this node's orders use. */
    public String challenge() {
        return settings.challenge();
    }

    void stop(@Observes @Priority(5) ShutdownEvent event) {
        if (worker != null) {
            worker.shutdownNow();
        }
    }

    private static double count(Topology t, State s) {
        return t.managed().values().stream().filter(m -> m.state() == s).count();
    }

    /** On the applying thread: a new or changed request wakes the leader's worker; a node that cannot order says so once. */
    private void applied(Topology topology) {
        Map<String, ManagedCertificate> managed = topology.managed();
        if (managed == seen) {
            return;
        }
        seen = managed;
        if (!managed.isEmpty() && !warnedUnusable && settings.unusable() != null) {
            warnedUnusable = true;
            LOG.errorf("certificate %s is managed through ACME, but %s on this node: it will not order nor renew"
                    + " certificates while it leads", managed.keySet().iterator().next(), settings.unusable());
        }
        if (leadership.isLeader()) {
            soon();
        }
    }

    /** Work to do now: a check soon, or, when one is running, another right after it (it may have read the state too early). */
    private synchronized void soon() {
        if (running) {
            again = true;
        } else {
            schedule(0);
        }
    }

    /** The next check in {@code delayMs}, unless one is scheduled sooner. */
    private synchronized void schedule(long delayMs) {
        if (pending instanceof ScheduledFuture<?> s && !s.isDone()) {
            if (s.getDelay(TimeUnit.MILLISECONDS) <= delayMs || !s.cancel(false)) {
                return;
            }
        }
        try {
            pending = worker.schedule(this::check, delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            // A node that is stopping orders nothing.
        }
    }

    private synchronized void stopWork() {
        if (pending != null) {
            pending.cancel(true);
            pending = null;
        }
        again = false;
    }

    /** A throw out of here would end the schedule for good: every failure becomes a retry. */
    private void check() {
        synchronized (this) {
            running = true;
            again = false;
        }
        long next = IDLE_CHECK_MS;
        try {
            next = checkAll();
        } catch (InterruptedException | CancellationException e) {
            // Leadership went: stopWork cancelled this check.
            next = 0;
        } catch (RuntimeException | ExecutionException | TimeoutException e) {
            LOG.warnf("ACME check ended early (the next in %d s): %s", settings.retryBackoff().toSeconds(), e.toString());
            next = settings.retryBackoff().toMillis();
        } finally {
            // Cleared, not kept: a node elected again while this check was being stopped carries on.
            Thread.interrupted();
            synchronized (this) {
                running = false;
                pending = null;
                if (leadership.isLeader()) {
                    schedule(again ? 0 : next);
                }
            }
        }
    }

    /** Does what is due; returns the milliseconds until the next thing is. */
    private long checkAll() throws InterruptedException, ExecutionException, TimeoutException {
        if (!leadership.isLeader() || settings.unusable() != null) {
            return IDLE_CHECK_MS;
        }
        // A consistent read: a leader just elected may not have applied its predecessor's last progress.
        Topology topology = consistent();
        long wait = IDLE_CHECK_MS;
        for (String name : topology.managed().keySet()) {
            if (!leadership.isLeader()) {
                break;
            }
            Topology now = holder.current();
            ManagedCertificate m = now.managed().get(name);
            if (m == null) {
                continue;
            }
            long due = dueAt(m) - System.currentTimeMillis();
            if (due <= 0) {
                work(now, m);
                m = holder.current().managed().get(name);
                due = m == null ? IDLE_CHECK_MS : dueAt(m) - System.currentTimeMillis();
            }
            wait = Math.min(wait, Math.max(due, 0));
        }
        return wait;
    }

    /** When the certificate next needs the leader: an order to resume now, a retry, or a renewal. */
    static long dueAt(ManagedCertificate m) {
        return switch (m.state()) {
            case PENDING, RENEWING -> m.order() != null ? 0 : m.nextAttempt();
            case FAILED -> m.nextAttempt();
            case VALID -> m.renewAt();
        };
    }

    private Topology consistent() throws InterruptedException, ExecutionException, TimeoutException {
        return pool.consistent().toCompletableFuture().get(pool.commitTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private Outcome commit(PoolCommand command) throws InterruptedException, ExecutionException, TimeoutException {
        return pool.submit(command).toCompletableFuture().get(pool.commitTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    // ---- one certificate ------------------------------------------------------------------------

    private void work(Topology topology, ManagedCertificate m) throws InterruptedException, ExecutionException, TimeoutException {
        boolean served = topology.certificates().containsKey(m.name());
        State working = served ? State.RENEWING : State.PENDING;
        ManagedCertificate current = m;
        try {
            Login login = login(topology);
            Order order;
            if (m.order() != null) {
                order = login.bindOrder(URI.create(m.order()).toURL());
                order.fetch();
                if (order.getStatus() == Status.INVALID) {
                    throw new OrderFailed(problem(order), true);
                }
            } else {
                KeyPair key = KeyPems.newKey();
                order = login.newOrder().domains(m.names()).create();
                current = new ManagedCertificate(m.name(), m.names(), working, order.getLocation().toString(),
                        certificates.seal().seal(m.name(), KeyPems.pem(key)), challenges(order), m.error(), 0, m.failures(), m.renewAt(),
                        m.generation());
                // Committed before the CA is asked to validate: every node then answers the challenge,
                // and a new leader finds the order and its key instead of placing another.
                Outcome o = commit(new PoolCommand.AcmeProgress(current, null));
                if (o.result() != Outcome.Result.APPLIED) {
                    return;
                }
                LOG.infof("certificate %s: ACME order placed for %s (%s)", m.name(), String.join(", ", m.names()), current.order());
            }
            if (current.state() != working) {
                current = current.withState(working);
            }
            validate(order);
            if (order.getStatus() == Status.READY) {
                KeyPair key = KeyPems.read(certificates.seal().open(m.name(), current.orderKey()));
                order.execute(key, csr -> {
                });
            }
            Status status = waitFor(() -> order.waitForCompletion(ORDER_TIMEOUT), "issue the certificate");
            if (status == Status.INVALID) {
                throw new OrderFailed(problem(order), true);
            }
            if (status != Status.VALID) {
                throw new OrderFailed("the CA did not issue the certificate within " + ORDER_TIMEOUT.toMinutes() + " minutes (order "
                        + status.name().toLowerCase() + ")", false);
            }
            finish(current, order);
        } catch (OrderFailed e) {
            fail(current, e.getMessage(), e.orderLost, null);
        } catch (AcmeRateLimitedException e) {
            fail(current, "rate limited by the CA: " + describe(e.getProblem()), false, e.getRetryAfter().orElse(null));
        } catch (AcmeServerException e) {
            if (e.getType().toString().endsWith(":accountDoesNotExist") && topology.acmeAccount() != null) {
                // The CA forgot the account (a test CA restarted, an account deactivated): register the key again next time.
                AcmeAccount a = topology.acmeAccount();
                commit(new PoolCommand.PutAcmeAccount(new AcmeAccount(a.directory(), a.email(), null, a.key())));
            }
            // The CA refused a request: an order it refused to go on with is over, unless the CA
            // itself failed, or the order was not ready (another leader's finalize may be under way):
            // then the next attempt looks at the same order again.
            String type = e.getType().toString();
            boolean keep = type.endsWith(":serverInternal") || type.endsWith(":orderNotReady");
            fail(current, "the CA refused: " + describe(e.getProblem()), !keep, null);
        } catch (AcmeNetworkException e) {
            fail(current, "the CA cannot be reached at " + settings.directory() + ": " + rootMessage(e), false, null);
        } catch (AcmeException | IOException | InvalidCertificateException | RuntimeException e) {
            fail(current, rootMessage(e), false, null);
        }
    }

    /** Answers the pending authorizations' challenges (already replicated) and waits until the order is ready. */
    private void validate(Order order) throws AcmeException, InterruptedException, OrderFailed {
        for (Authorization auth : order.getAuthorizations()) {
            if (auth.getStatus() != Status.PENDING) {
                continue;
            }
            Challenge challenge = auth.findChallenge(settings.challenge()).orElseThrow(() -> new OrderFailed(
                    "the CA offers no " + settings.challenge() + " challenge for " + auth.getIdentifier().getDomain(), true));
            if (challenge.getStatus() == Status.PENDING) {
                challenge.trigger();
            }
        }
        Status status = order.getStatus();
        if (status == Status.PENDING) {
            status = waitFor(() -> order.waitUntilReady(ORDER_TIMEOUT), "validate");
        }
        if (status == Status.INVALID) {
            throw new OrderFailed(problem(order), true);
        }
        if (status == Status.PENDING) {
            throw new OrderFailed("the CA did not validate within " + ORDER_TIMEOUT.toMinutes() + " minutes", false);
        }
    }

    private interface Wait {
        Status run() throws AcmeException, InterruptedException;
    }

    /** acme4j's waits end with an exception when their time is up: an attempt that failed, said in weldr's words. */
    private static Status waitFor(Wait wait, String what) throws AcmeException, InterruptedException, OrderFailed {
        try {
            return wait.run();
        } catch (AcmeException e) {
            if (e.getClass() == AcmeException.class && String.valueOf(e.getMessage()).contains("Timeout")) {
                throw new OrderFailed("the CA did not " + what + " within " + ORDER_TIMEOUT.toMinutes() + " minutes", false);
            }
            throw e;
        }
    }

    /** The challenges of the order's pending authorizations, of the configured type, as every node answers them. */
    private List<AcmeChallenge> challenges(Order order) throws OrderFailed {
        List<AcmeChallenge> list = new ArrayList<>();
        for (Authorization auth : order.getAuthorizations()) {
            if (auth.getStatus() != Status.PENDING) {
                continue;
            }
            String host = auth.getIdentifier().getDomain();
            if (settings.challenge().equals(AcmeChallenge.HTTP_01)) {
                Http01Challenge c = auth.<Http01Challenge>findChallenge(Http01Challenge.TYPE)
                        .orElseThrow(() -> new OrderFailed("the CA offers no http-01 challenge for " + host, true));
                list.add(new AcmeChallenge(AcmeChallenge.HTTP_01, host, c.getToken(), c.getAuthorization()));
            } else {
                TlsAlpn01Challenge c = auth.<TlsAlpn01Challenge>findChallenge(TlsAlpn01Challenge.TYPE)
                        .orElseThrow(() -> new OrderFailed("the CA offers no tls-alpn-01 challenge for " + host, true));
                list.add(new AcmeChallenge(AcmeChallenge.TLS_ALPN_01, host, c.getJSON().get("token").asString(),
                        Base64.getEncoder().encodeToString(c.getAcmeValidation())));
            }
        }
        return list;
    }

    private void finish(ManagedCertificate m, Order order) throws AcmeException, IOException, InvalidCertificateException,
            InterruptedException, ExecutionException, TimeoutException {
        StringWriter chain = new StringWriter();
        org.shredzone.acme4j.Certificate cert = order.getCertificate();
        cert.writeCertificate(chain);
        Certificate c = new Certificate(m.name(), chain.toString(), m.orderKey());
        // Checked as an upload is (the key was sealed under this name, so it is the certificate's key
        // as it stands), but for its start: a CA that does not backdate, with a clock a little ahead
        // of ours, issues certificates that start a moment from now here.
        CertificateBundle bundle = CertificateBundle.parse(c.chain(), certificates.seal().open(m.name(), c.key()), null);
        if (!bundle.info().notAfter().isAfter(Instant.now())) {
            throw new InvalidCertificateException("the CA issued a certificate that expired on " + bundle.info().notAfter());
        }
        long renewAt = renewAt(bundle.info().notBefore(), bundle.info().notAfter(), cert);
        ManagedCertificate done = new ManagedCertificate(m.name(), m.names(), State.VALID, null, null, List.of(), null, 0, 0, renewAt,
                m.generation());
        certificates.prepare(c);
        try {
            if (commit(new PoolCommand.AcmeProgress(done, c)).result() == Outcome.Result.APPLIED) {
                issued.increment();
                LOG.infof("certificate %s: issued for %s, valid until %s, renewal from %s", m.name(), String.join(", ", m.names()),
                        bundle.info().notAfter(), Instant.ofEpochMilli(renewAt));
            }
        } finally {
            certificates.forget(c);
        }
    }

    /**
     * When to renew: once {@code weldr.acme.renewal-window-ratio} of the lifetime is left, or at
     * the start of the window the CA suggests (ACME Renewal Information, RFC 9773) when it offers
     * one and it comes sooner.
     */
    private long renewAt(Instant notBefore, Instant notAfter, org.shredzone.acme4j.Certificate cert) {
        long lifetime = notAfter.toEpochMilli() - notBefore.toEpochMilli();
        long at = notAfter.toEpochMilli() - (long) (lifetime * settings.renewalWindowRatio());
        try {
            if (cert.hasRenewalInfo()) {
                Instant suggested = cert.getRenewalInfo().getSuggestedWindowStart();
                at = Math.min(at, suggested.toEpochMilli());
            }
        } catch (RuntimeException e) {
            LOG.debugf("no renewal information from the CA: %s", e.getMessage());
        }
        return at;
    }

    private void fail(ManagedCertificate m, String why, boolean orderLost, Instant retryAfter)
            throws InterruptedException, ExecutionException, TimeoutException {
        if (Thread.currentThread().isInterrupted() || !leadership.isLeader()) {
            // Leadership went in the middle: the new leader carries on from the state as committed.
            return;
        }
        failed.increment();
        int failures = m.failures() + 1;
        long next = System.currentTimeMillis() + backoff(settings.retryBackoff().toMillis(), failures);
        if (retryAfter != null) {
            next = Math.max(next, retryAfter.toEpochMilli());
        }
        ManagedCertificate state = new ManagedCertificate(m.name(), m.names(), State.FAILED,
                orderLost ? null : m.order(), orderLost ? null : m.orderKey(), orderLost ? List.of() : m.challenges(),
                why, next, failures, m.renewAt(), m.generation());
        LOG.warnf("certificate %s: ACME order for %s failed (%s); attempt %d, the next in %d s", m.name(),
                String.join(", ", m.names()), why, failures, (next - System.currentTimeMillis() + 999) / 1000);
        commit(new PoolCommand.AcmeProgress(state, null));
    }

    /** {@code weldr.acme.retry-backoff} doubled with each failure in a row, up to {@link #MAX_BACKOFF}. */
    static long backoff(long base, int failures) {
        long wait = failures >= 31 ? Long.MAX_VALUE : base << Math.min(failures - 1, 30);
        return Math.min(wait < 0 ? Long.MAX_VALUE : wait, Math.max(MAX_BACKOFF.toMillis(), base));
    }

    // ---- the account ----------------------------------------------------------------------------

    /**
     * The cluster's account at the configured CA, registered on first use. Its key is committed
     * before it is registered: a leader that dies in between leaves a key the next one registers
     * again, which the CA answers with the same account.
     */
    private Login login(Topology topology) throws AcmeException, IOException, InvalidCertificateException,
            InterruptedException, ExecutionException, TimeoutException {
        String directory = settings.directory().toString();
        if (session == null || !session.getServerUri().toString().equals(directory)) {
            session = new Session(settings.directory(), new TrustingProvider(settings.trust()));
        }
        AcmeAccount account = topology.acmeAccount();
        if (account != null && account.directory().equals(directory) && account.location() != null) {
            KeyPair key = KeyPems.read(certificates.seal().open(AcmeAccount.SEAL_NAME, account.key()));
            return session.login(URI.create(account.location()).toURL(), key);
        }
        KeyPair key;
        if (account != null && account.directory().equals(directory)) {
            key = KeyPems.read(certificates.seal().open(AcmeAccount.SEAL_NAME, account.key()));
        } else {
            key = KeyPems.newKey();
            account = new AcmeAccount(directory, settings.email(), null, certificates.seal().seal(AcmeAccount.SEAL_NAME, KeyPems.pem(key)));
            commit(new PoolCommand.PutAcmeAccount(account));
        }
        AccountBuilder builder = new AccountBuilder().agreeToTermsOfService().useKeyPair(key);
        if (settings.email() != null) {
            builder.addEmail(settings.email());
        }
        Account registered = builder.create(session);
        URL location = registered.getLocation();
        commit(new PoolCommand.PutAcmeAccount(new AcmeAccount(directory, settings.email(), location.toString(), account.key())));
        LOG.infof("ACME account registered at %s: %s", directory, location);
        return session.login(location, key);
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** The CA's reason for an invalid order: the order's error, else the first failed challenge's. */
    private static String problem(Order order) {
        if (order.getError().isPresent()) {
            return describe(order.getError().get());
        }
        for (Authorization auth : order.getAuthorizations()) {
            for (Challenge c : auth.getChallenges()) {
                if (c.getStatus() == Status.INVALID && c.getError().isPresent()) {
                    return auth.getIdentifier().getDomain() + ": " + describe(c.getError().get());
                }
            }
        }
        return "the CA marked the order invalid";
    }

    static String describe(Problem p) {
        String type = p.getType().toString();
        String shortType = type.startsWith("urn:ietf:params:acme:error:") ? type.substring("urn:ietf:params:acme:error:".length()) : type;
        String detail = p.getDetail().orElse(p.getTitle().orElse(""));
        return detail.isEmpty() ? shortType : shortType + ": " + detail;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null || m.isEmpty() ? t.getClass().getSimpleName() : m;
    }

    /** An order that cannot go on; {@code orderLost}: a new one is needed next time. */
    private static final class OrderFailed extends Exception {
        final boolean orderLost;

        OrderFailed(String message, boolean orderLost) {
            super(message, null, false, false);
            this.orderLost = orderLost;
        }
    }
}
