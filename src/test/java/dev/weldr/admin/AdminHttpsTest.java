package dev.weldr.admin;

import dev.weldr.tls.TestCertificates;
import dev.weldr.tls.TlsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLHandshakeException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin API over HTTPS with Quarkus's TLS registry, and no plain HTTP beside it: the leader
 * advertises {@code https://} with the port the TLS listener bound, so that the other nodes
 * forward to it encrypted.
 */
@QuarkusTest
@TestProfile(AdminHttpsTest.OverHttps.class)
class AdminHttpsTest {

    // A fixed path: the class is loaded twice (by JUnit and by Quarkus), and both must name the same files.
    static final Path DIR = Path.of("target", "test-admin-tls", "AdminHttpsTest").toAbsolutePath();

    public static class OverHttps implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            TestCertificates.Issued ca = TestCertificates.ca("weldr test admin CA");
            TestCertificates.Issued server = TestCertificates.server(ca, List.of("localhost"), List.of("127.0.0.1"));
            try {
                Files.createDirectories(DIR);
                Files.writeString(DIR.resolve("ca.pem"), TestCertificates.pem(ca.certificate()));
                Files.writeString(DIR.resolve("admin.crt"), server.chainPem());
                Files.writeString(DIR.resolve("admin.key"), server.keyPem());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("quarkus.tls.admin.key-store.pem.0.cert", DIR.resolve("admin.crt").toString(),
                    "quarkus.tls.admin.key-store.pem.0.key", DIR.resolve("admin.key").toString(),
                    "quarkus.http.tls-configuration-name", "admin",
                    "quarkus.http.test-ssl-port", "0",
                    "quarkus.http.insecure-requests", "disabled",
                    "weldr.admin.token", "s3cret");
        }
    }

    @TestHTTPResource(value = "/", tls = true)
    URL https;

    @Test
    void shouldServeTheAdminApiOverHttpsAndAdvertiseIt() throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(TlsClient.trusting(ca())).connectTimeout(Duration.ofSeconds(10)).build();
        String base = "https://127.0.0.1:" + https.getPort();
        AdminApi.await("the node is ready", () -> send(client, base + "/q/health/ready").statusCode() == 200);
        AdminApi.await("the leader has published its admin URL",
                () -> send(client, base + "/cluster").body().contains("\"admin\":\""));

        HttpResponse<String> cluster = send(client, base + "/cluster");
        assertEquals(200, cluster.statusCode());
        assertTrue(cluster.body().contains("\"admin\":\"https://127.0.0.1:" + https.getPort() + "\""), cluster.body());

        // A client that does not trust the cluster's CA gets no answer at all.
        HttpClient stranger = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        assertThrows(SSLHandshakeException.class, () -> stranger.send(HttpRequest.newBuilder(URI.create(base + "/cluster")).build(),
                HttpResponse.BodyHandlers.ofString()));
    }

    private static HttpResponse<String> send(HttpClient client, String url) {
        try {
            return client.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer s3cret")
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate ca() throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(DIR.resolve("ca.pem"))));
    }
}
