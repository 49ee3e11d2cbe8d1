package dev.weldr.proxy;

import io.netty.handler.ssl.SslProvider;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import java.util.Map;

/** Every case of {@link HttpsListenerTest} again, served by the JDK's TLS ({@code weldr.tls.provider=jdk}). */
@QuarkusTest
@TestProfile(HttpsListenerJdkTest.JdkProvider.class)
class HttpsListenerJdkTest extends HttpsListenerTest {

    public static class JdkProvider implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("weldr.tls.provider", "jdk");
        }
    }

    @Override
    SslProvider expectedProvider() {
        return SslProvider.JDK;
    }
}
