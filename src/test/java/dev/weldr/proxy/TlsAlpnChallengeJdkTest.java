package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/** Every case of {@link TlsAlpnChallengeTest} again, served by the JDK's TLS ({@code weldr.tls.provider=jdk}). */
@QuarkusTest
@TestProfile(HttpsListenerJdkTest.JdkProvider.class)
class TlsAlpnChallengeJdkTest extends TlsAlpnChallengeTest {
}
