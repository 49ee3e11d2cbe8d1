package dev.weldr.tls;

import dev.weldr.cluster.PoolHolder;
import dev.weldr.config.WeldrConfig;
import dev.weldr.pool.Certificate;
import dev.weldr.pool.Topology;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.Mapping;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The certificates this node serves. When Raft applies a change to the certificates, a new
 * {@link SniTable} is built on the applying thread (so a change is answered only once this node
 * serves it) and published with one volatile write; handshakes read it and never wait. A
 * certificate that did not change keeps its {@link SslContext}, and with it its sessions.
 */
@ApplicationScoped
public class CertificateStore implements Mapping<String, SslContext> {

    private static final Logger LOG = Logger.getLogger(CertificateStore.class);

    @Inject
    PoolHolder holder;
    @Inject
    WeldrConfig config;

    private KeySeal seal;
    private SslProvider provider;
    private SslContext refusing;
    private long handshakeTimeoutMs;
    private String defaultName;
    private volatile SniTable table;
    /** What the last table was built from; only the applying thread touches these. */
    private Map<String, Certificate> built;
    private Map<Certificate, SniTable.Served> loaded = Map.of();
    /** Certificates made ready by {@link #prepare} before they were proposed, so that applying them costs nothing. */
    private final Map<Certificate, SniTable.Served> prepared = new ConcurrentHashMap<>();

    void start(@Observes @Priority(5) StartupEvent event) {
        handshakeTimeoutMs = config.tls().handshakeTimeout().toMillis();
        seal = new KeySeal(config.tls().storeKey().orElse(null));
        seal.prepare();
        provider = ServerContexts.provider(config.tls().provider());
        LOG.info(ServerContexts.describe(config.tls().provider(), provider));
        // The refusing context stays the JDK's whatever the provider: it is what answers unrecognized_name.
        refusing = ServerContexts.refusing(handshakeTimeoutMs);
        defaultName = config.tls().defaultCertificate().orElse("");
        table = new SniTable(List.of(), defaultName, refusing);
        holder.subscribe(this::applied);
    }

    /** The TLS implementation this node serves certificates with. */
    public SslProvider provider() {
        return provider;
    }

    /** How keys are sealed for the log on this node. */
    public KeySeal seal() {
        return seal;
    }

    public SniTable table() {
        return table;
    }

    /**
     * Builds what serving this certificate takes (its key opened, its TLS context) before it is
     * proposed, off the Raft thread: applying it on this node then only swaps the table, and a
     * cold first TLS context never delays a commit. Call {@link #forget} once the proposal is done.
     */
    public void prepare(Certificate c) {
        SniTable.Served s = load(c);
        if (s != null) {
            prepared.put(c, s);
        }
    }

    public void forget(Certificate c) {
        prepared.remove(c);
    }

    /** The SNI mapping of the HTTPS listener: called on the event loops, for each ClientHello. */
    @Override
    public SslContext map(String serverName) {
        return table.select(serverName);
    }

    private synchronized void applied(Topology topology) {
        Map<String, Certificate> certificates = topology.certificates();
        if (certificates == built) {
            return;
        }
        Map<Certificate, SniTable.Served> next = new HashMap<>();
        List<SniTable.Served> served = new ArrayList<>();
        for (Certificate c : certificates.values()) {
            SniTable.Served s = loaded.get(c);
            if (s == null) {
                s = prepared.remove(c);
                if (s == null) {
                    s = load(c);
                }
                if (s != null) {
                    LOG.infof("certificate %s served for %s (%s, expires %s)", c.name(),
                            s.info().names().isEmpty() ? "clients naming no covered host" : String.join(", ", s.info().names()),
                            s.info().keyType(), s.info().notAfter());
                }
            }
            if (s != null) {
                next.put(c, s);
                served.add(s);
            }
        }
        if (built != null) {
            for (Certificate old : built.values()) {
                if (!certificates.containsKey(old.name())) {
                    LOG.infof("certificate %s removed: no longer served", old.name());
                }
            }
        }
        table = new SniTable(served, defaultName, refusing);
        loaded = next;
        built = certificates;
    }

    private SniTable.Served load(Certificate c) {
        try {
            CertificateBundle bundle = CertificateBundle.parse(c.chain(), seal.open(c.name(), c.key()), null);
            return new SniTable.Served(c.name(), bundle.info(), ServerContexts.of(bundle, handshakeTimeoutMs, provider));
        } catch (InvalidCertificateException e) {
            LOG.errorf("certificate %s cannot be served on this node: %s", c.name(), e.getMessage());
        } catch (Exception e) {
            LOG.errorf("certificate %s cannot be served on this node: %s", c.name(), e.toString());
        }
        return null;
    }
}
