package dev.weldr.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weldr.config.InvalidConfigException;
import dev.weldr.config.WeldrConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/** What a node started with {@code weldr.raft.join} asks of the cluster it joins. */
@ApplicationScoped
public class JoinClient {

    private static final Logger LOG = Logger.getLogger(JoinClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @Inject
    WeldrConfig config;
    @Inject
    ClusterTls clusterTls;

    /** Made on first use: most nodes never join through another one, and a JDK HttpClient costs ~70 ms to start. */
    private volatile HttpClient http;

    private HttpClient http() {
        HttpClient h = http;
        if (h == null) {
            synchronized (this) {
                h = http;
                if (h == null) {
                    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
                    // An https:// weldr.raft.join is trusted by the cluster's CA, as the Raft port is.
                    clusterTls.sslContext().ifPresent(builder::sslContext);
                    h = builder.build();
                    http = h;
                }
            }
        }
        return h;
    }

    /** The id of the cluster at {@code adminUrl}; start-up fails with one line if it cannot be had. */
    public String clusterId(String adminUrl) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        String problem;
        do {
            try {
                HttpResponse<String> r = http().send(request(adminUrl, "/cluster").GET().build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    String id = JSON.readTree(r.body()).path("cluster").asText("");
                    if (!id.isEmpty()) {
                        return id;
                    }
                    problem = "its /cluster answer names no cluster";
                } else {
                    problem = "it answered " + r.statusCode() + (r.statusCode() == 401 ? " (set the same weldr.admin.token on every node)" : "");
                    if (r.statusCode() == 401) {
                        break;
                    }
                }
            } catch (IOException | IllegalArgumentException e) {
                problem = "it cannot be reached (" + e.getMessage() + ")";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problem = "interrupted";
                break;
            }
            pause();
        } while (System.nanoTime() < deadline);
        throw new InvalidConfigException("weldr.raft.join", "cannot join " + adminUrl + ": " + problem);
    }

    /**
     * The id of the cluster at {@code adminUrl} if it answers now (one try), else empty: for a node
     * that joined earlier and restarts, which must not depend on the node it once joined through.
     */
    public Optional<String> clusterIdIfAnswering(String adminUrl) {
        try {
            HttpResponse<String> r = http().send(request(adminUrl, "/cluster").timeout(Duration.ofSeconds(3)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 401) {
                throw new InvalidConfigException("weldr.raft.join", adminUrl + " answered 401: set the same weldr.admin.token on every node");
            }
            String id = r.statusCode() == 200 ? JSON.readTree(r.body()).path("cluster").asText("") : "";
            if (!id.isEmpty()) {
                return Optional.of(id);
            }
            LOG.infof("%s answered %d; starting in the cluster recorded in the data directory", adminUrl, r.statusCode());
        } catch (IOException | IllegalArgumentException e) {
            LOG.infof("%s cannot be reached (%s); starting in the cluster recorded in the data directory", adminUrl, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Optional.empty();
    }

    /**
     * Asks the cluster to add {@code self} as a voting member, until it says yes (or that it
     * already is one). Runs in the background: the leader can only add a node that is running.
     */
    public void requestMembership(String adminUrl, String self, java.util.function.BooleanSupplier stillWanted) {
        String body = "{\"peer\":\"" + self + "\"}";
        while (stillWanted.getAsBoolean()) {
            try {
                HttpResponse<String> r = http().send(request(adminUrl, "/cluster/peers")
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 || r.statusCode() == 409 && r.body().contains("already_member")) {
                    LOG.infof("joined the cluster through %s as %s", adminUrl, self);
                    return;
                }
                LOG.infof("asking %s to add %s: %d %s", adminUrl, self, r.statusCode(), r.body());
            } catch (IOException e) {
                LOG.infof("asking %s to add %s: %s", adminUrl, self, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            pause();
        }
    }

    private HttpRequest.Builder request(String adminUrl, String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(adminUrl.replaceAll("/+$", "") + path))
                .timeout(Duration.ofSeconds(15));
        config.admin().token().filter(t -> !t.isBlank()).ifPresent(t -> b.header("Authorization", "Bearer " + t));
        return b;
    }

    private static void pause() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
