package dev.weldr.tls;

import dev.weldr.cluster.PoolHolder;
import dev.weldr.config.WeldrConfig;
import dev.weldr.pool.Certificate;
import dev.weldr.pool.Topology;
import dev.weldr.pool.TicketKey;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.Mapping;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The certificates this node serves. When Raft applies a change to the certificates, a new
 * {@link SniTable} is built on the applying thread (so a change is answered only once this node
 * serves it) and published with one volatile write; handshakes read it and never wait. A
 * certificate that did not change keeps its {@link SslContext}, and with it its sessions. The
 * replicated session-ticket keys go into every OpenSSL context, old and new, as they are applied,
 * so that a ticket one node issued resumes on any other.
 */
@ApplicationScoped
public class CertificateStore implements Mapping<String, SslContext> {

    private static final Logger LOG = Logger.getLogger(CertificateStore.class);
    private static final byte[][] NO_TICKET_KEYS = new byte[0][];
    private static final SecureRandom RANDOM = new SecureRandom();

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
    private List<TicketKey> ticketKeysBuilt = List.of();
    private volatile byte[][] ticketKeys = NO_TICKET_KEYS;
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

    /**
     * A new session-ticket key, sealed for the log like a private key. Only the leader makes
     * them; the bytes never leave this class but sealed or into the TLS contexts.
     */
    public TicketKey newTicketKey(long created) {
        byte[] bytes = new byte[OpenSslSessionTicketKey.TICKET_KEY_SIZE];
        RANDOM.nextBytes(bytes);
        TicketKey unsealed = new TicketKey(created, Base64.getEncoder().encodeToString(bytes));
        return new TicketKey(created, seal.seal(unsealed.sealName(), unsealed.key()));
    }

    /** How many replicated session-ticket keys this node's TLS contexts use: 0 under the JDK's TLS. */
    public int ticketKeysInUse() {
        return ticketKeys.length;
    }

    private synchronized void applied(Topology topology) {
        if (topology.ticketKeys() != ticketKeysBuilt) {
            ticketKeys = open(topology.ticketKeys());
            ticketKeysBuilt = topology.ticketKeys();
            for (SniTable.Served s : loaded.values()) {
                useTicketKeys(s);
            }
        }
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
                    useTicketKeys(s);
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

    /**
     * The replicated keys' bytes, newest (the one that encrypts) first; none under the JDK's TLS,
     * which keeps a ticket key of its own that nothing can set.
     */
    private byte[][] open(List<TicketKey> keys) {
        if (provider != SslProvider.OPENSSL || keys.isEmpty()) {
            return NO_TICKET_KEYS;
        }
        byte[][] opened = new byte[keys.size()][];
        try {
            for (int i = 0; i < opened.length; i++) {
                opened[i] = Base64.getDecoder().decode(seal.open(keys.get(i).sealName(), keys.get(i).key()));
                if (opened[i].length != OpenSslSessionTicketKey.TICKET_KEY_SIZE) {
                    throw new InvalidCertificateException("a key is " + opened[i].length + " bytes");
                }
            }
        } catch (InvalidCertificateException | IllegalArgumentException e) {
            LOG.errorf("the cluster's session-ticket keys cannot be used on this node (%s): sessions resume on this node only",
                    e.getMessage());
            return NO_TICKET_KEYS;
        }
        return opened;
    }

    /**
     * Gives a certificate's context keys derived from the cluster's and from its leaf: every node
     * derives the same, but a ticket sealed for one certificate never opens under another, so a
     * session never resumes with a certificate that is not the one the handshake would serve
     * (another host's, or the one a replacement superseded): that client gets a full handshake.
     */
    private void useTicketKeys(SniTable.Served served) {
        byte[][] keys = ticketKeys;
        if (keys.length == 0 || !(served.context().sessionContext() instanceof OpenSslSessionContext openssl)) {
            return;
        }
        OpenSslSessionTicketKey[] derived = new OpenSslSessionTicketKey[keys.length];
        byte[] leaf = served.info().fingerprint().getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < keys.length; i++) {
            byte[] b = TicketKeyDerivation.derive(keys[i], leaf, OpenSslSessionTicketKey.TICKET_KEY_SIZE);
            int name = OpenSslSessionTicketKey.NAME_SIZE;
            int hmac = OpenSslSessionTicketKey.HMAC_KEY_SIZE;
            derived[i] = new OpenSslSessionTicketKey(Arrays.copyOfRange(b, 0, name),
                    Arrays.copyOfRange(b, name, name + hmac), Arrays.copyOfRange(b, name + hmac, b.length));
        }
        openssl.setTicketKeys(derived);
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
