package dev.weldr.tls;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.weldr.config.TlsProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The JDK context for HTTPS between nodes against a real HTTPS server that requires a client
 * certificate: it presents this node's certificate (the reloaded one once reloaded), trusts the
 * cluster's CA, and the HTTP client still checks the server's name.
 */
class ClusterHttpsTest {

    private static final TestCertificates.Issued CA = ClusterMaterialTest.CA;

    @TempDir
    Path dir;
    private HttpsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    /** An HTTPS server on loopback presenting {@code cert}, requiring a client certificate the CA signed; answers with its serial. */
    private int serve(TestCertificates.Issued cert) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("s", cert.keys().getPrivate(), new char[0], new X509Certificate[]{cert.certificate()});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", CA.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(context) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters p = context.getDefaultSSLParameters();
                p.setNeedClientAuth(true);
                params.setSSLParameters(p);
            }
        });
        server.createContext("/", exchange -> {
            X509Certificate client = (X509Certificate) ((HttpsExchange) exchange).getSSLSession().getPeerCertificates()[0];
            byte[] body = client.getSerialNumber().toString().getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return server.getAddress().getPort();
    }

    private ClusterFiles files(TestCertificates.Issued node) throws IOException {
        write(node);
        Files.writeString(dir.resolve("ca.pem"), TestCertificates.pem(CA.certificate()));
        ClusterFiles files = new ClusterFiles(dir.resolve("cert.pem"), dir.resolve("key.pem"), dir.resolve("ca.pem"),
                c -> ClusterMaterial.of(c, "127.0.0.1", TlsProvider.JDK, 10_000, Instant.now()));
        files.load();
        return files;
    }

    private void write(TestCertificates.Issued node) throws IOException {
        Files.writeString(dir.resolve("cert.pem"), node.chainPem());
        Files.writeString(dir.resolve("key.pem"), node.keyPem());
    }

    private static String get(SSLContext context, int port) throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(context).build();
        return client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void shouldPresentTheNodesCertificateAndTheReloadedOneOnNewConnections() throws Exception {
        int port = serve(TestCertificates.server(CA, List.of(), List.of("127.0.0.1")));
        TestCertificates.Issued first = ClusterMaterialTest.node(CA, "127.0.0.1");
        ClusterFiles files = files(first);
        SSLContext context = files.sslContext();
        assertEquals(first.certificate().getSerialNumber().toString(), get(context, port));

        TestCertificates.Issued second = ClusterMaterialTest.node(CA, "127.0.0.1");
        write(second);
        files.reload();
        assertEquals(second.certificate().getSerialNumber().toString(), get(context, port));
    }

    @Test
    void shouldRefuseAServerWhoseCertificateDoesNotNameTheHost() throws Exception {
        int port = serve(TestCertificates.server(CA, List.of("elsewhere.weldr.test"), List.of("10.0.0.9")));
        SSLContext context = files(ClusterMaterialTest.node(CA, "127.0.0.1")).sslContext();
        assertThrows(SSLHandshakeException.class, () -> get(context, port));
    }
}
