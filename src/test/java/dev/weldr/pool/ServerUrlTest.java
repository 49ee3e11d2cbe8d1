package dev.weldr.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link ServerUrl#parse}: what a backend URL may be, how it is normalised, and why one is refused. */
class ServerUrlTest {

    @ParameterizedTest(name = "shouldParse: {0} -> {1}://{2}:{3}")
    @CsvSource(delimiter = '|', textBlock = """
            http://127.0.0.1:8000          | http  | 127.0.0.1   | 8000
            https://127.0.0.1:8443         | https | 127.0.0.1   | 8443
            http://example.com             | http  | example.com | 80
            https://example.com            | https | example.com | 443
            http://example.com/            | http  | example.com | 80
            https://example.com:443/       | https | example.com | 443
            http://localhost:1             | http  | localhost   | 1
            http://localhost:65535         | http  | localhost   | 65535
            http://backend-1.internal:8080 | http  | backend-1.internal | 8080
            http://myapp_web_1:8080        | http  | myapp_web_1 | 8080
            http://My_Api                  | http  | my_api      | 80
            https://_api.svc_a.internal/   | https | _api.svc_a.internal | 443
            http://a_b:                    | http  | a_b         | 80
            http://a_b:65535               | http  | a_b         | 65535
            """)
    void shouldParse(String text, String scheme, String host, int port) {
        assertEquals(new ServerUrl(scheme, host, port), ServerUrl.parse(text));
    }

    @Test
    void shouldUseTheDefaultPortOfTheScheme() {
        assertEquals(80, ServerUrl.parse("http://10.0.0.1").port());
        assertEquals(443, ServerUrl.parse("https://10.0.0.1").port());
        assertEquals(80, ServerUrl.parse("http://10.0.0.1/").port());
    }

    @Test
    void shouldNormaliseSchemeAndHostToLowerCase() {
        assertEquals(new ServerUrl("http", "example.com", 8080), ServerUrl.parse("HTTP://EXAMPLE.COM:8080"));
        assertEquals(new ServerUrl("https", "example.com", 443), ServerUrl.parse("HttpS://Example.Com"));
    }

    @Test
    void shouldIgnoreSurroundingWhitespace() {
        assertEquals(new ServerUrl("http", "127.0.0.1", 8000), ServerUrl.parse("  http://127.0.0.1:8000\n"));
    }

    @Test
    void shouldParseAnIpv6AddressWithoutItsBrackets() {
        ServerUrl url = ServerUrl.parse("http://[::1]:9000");
        assertEquals(new ServerUrl("http", "::1", 9000), url);
        assertEquals("http://[::1]:9000", url.toString());
    }

    @Test
    void shouldGiveAnIpv6AddressTheDefaultPortAndLowerCase() {
        assertEquals(new ServerUrl("http", "::1", 80), ServerUrl.parse("http://[::1]"));
        ServerUrl url = ServerUrl.parse("https://[2001:DB8::A]");
        assertEquals(new ServerUrl("https", "2001:db8::a", 443), url);
        assertEquals("https://[2001:db8::a]:443", url.toString());
    }

    @Test
    void shouldPrintTheNormalisedUrlWithItsPort() {
        assertEquals("http://example.com:80", ServerUrl.parse("HTTP://Example.com/").toString());
        assertEquals("https://127.0.0.1:443", ServerUrl.parse("https://127.0.0.1").toString());
    }

    @ParameterizedTest(name = "shouldRequireAUrl: \"{0}\"")
    @NullAndEmptySource
    @ValueSource(strings = {" ", "\t\n"})
    void shouldRequireAUrl(String text) {
        assertInvalid(text, "url is required");
    }

    @ParameterizedTest(name = "shouldRejectASchemeOtherThanHttpOrHttps: {0}")
    @ValueSource(strings = {"ftp://127.0.0.1:21", "ws://127.0.0.1:8000", "file:///etc/passwd", "mailto:ops@example.com",
            "localhost:8000", "//127.0.0.1:8000", "/servers", "example.com"})
    void shouldRejectASchemeOtherThanHttpOrHttps(String text) {
        assertInvalid(text, "url scheme must be http or https");
    }

    @ParameterizedTest(name = "shouldRejectWhatIsNotAUrl: {0}")
    @CsvSource(delimiter = '|', textBlock = """
            127.0.0.1:8000      | url is not a valid URL: Illegal character in scheme name
            http://             | url is not a valid URL: Expected authority
            http:               | url is not a valid URL: Expected scheme-specific part
            http://a b:80       | url is not a valid URL: Illegal character in authority
            http://[::1:80      | url is not a valid URL: Expected closing bracket for IPv6 address
            http://[zz]:80      | url is not a valid URL: Malformed IPv6 address
            http://[::1]:x      | url is not a valid URL: Illegal character in port number
            """)
    void shouldRejectWhatIsNotAUrl(String text, String message) {
        assertInvalid(text, message);
    }

    @ParameterizedTest(name = "shouldRejectAUrlWithoutHost: {0}")
    @ValueSource(strings = {"http://:80", "http://:", "http:///", "http:///x", "http://@127.0.0.1:80", "http:127.0.0.1:80"})
    void shouldRejectAUrlWithoutHost(String text) {
        assertInvalid(text, "url has no host");
    }

    @ParameterizedTest(name = "shouldRejectAnInvalidHost: {0}")
    @ValueSource(strings = {"http://-backend", "http://1.2.3.4.5", "http://999.1.1.1", "http://h%41",
            "http://a_b-", "http://-a_b", "http://a_b..c", "http://a_b.", "http://.a_b", "http://a_b%41"})
    void shouldRejectAnInvalidHost(String text) {
        assertInvalid(text, "url has no valid host");
    }

    @ParameterizedTest(name = "shouldRejectAnInvalidHostWhateverItsPort: {0}")
    @ValueSource(strings = {"http://-backend:8000", "http://a_b-:8000", "http://1.2.3.4.5:80", "http://999.1.1.1:80",
            "http://h%41:80", "http://user@a_b:80"})
    void shouldRejectAnInvalidHostWhateverItsPort(String text) {
        assertInvalid(text, "url has no valid host");
    }

    @ParameterizedTest(name = "shouldRejectABadPort: {0}")
    @ValueSource(strings = {"http://127.0.0.1:0", "http://127.0.0.1:65536", "http://127.0.0.1:70000", "http://127.0.0.1:99999999999",
            "http://127.0.0.1:-1", "http://127.0.0.1:abc", "http://127.0.0.1:80:90", "http://127.0.0.1:8o", "http://[::1]:0",
            "http://[::1]:70000", "http://a_b:0", "http://-backend:http", "http://a_b:65536", "http://a_b:99999999999",
            "http://a_b:-1", "http://a_b:8o"})
    void shouldRejectABadPort(String text) {
        assertInvalid(text, "url port must be a number from 1 to 65535");
    }

    @ParameterizedTest(name = "shouldRejectUserInformation: {0}")
    @ValueSource(strings = {"http://user@127.0.0.1:8000", "http://user:secret@127.0.0.1:8000"})
    void shouldRejectUserInformation(String text) {
        assertInvalid(text, "url must not contain user information");
    }

    @ParameterizedTest(name = "shouldRejectAPathQueryOrFragment: {0}")
    @ValueSource(strings = {"http://127.0.0.1:8000/api", "http://127.0.0.1:8000/api/", "http://127.0.0.1:8000//",
            "http://127.0.0.1:8000?x=1", "http://127.0.0.1:8000/?x=1", "http://127.0.0.1:8000?", "http://127.0.0.1:8000#top",
            "http://127.0.0.1#top", "http://a_b:80/api", "http://a_b?x=1"})
    void shouldRejectAPathQueryOrFragment(String text) {
        assertInvalid(text, "url must not have a path, query or fragment");
    }

    @Test
    void shouldThrowAnIllegalArgumentException() {
        // Callers that know only the standard exceptions still get a client error.
        assertThrows(IllegalArgumentException.class, () -> ServerUrl.parse("ftp://x"));
    }

    private static void assertInvalid(String text, String message) {
        InvalidServerUrlException e = assertThrows(InvalidServerUrlException.class, () -> ServerUrl.parse(text),
                "'" + text + "' should be refused");
        assertEquals(message, e.getMessage(), "message for '" + text + "'");
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "shouldSpellAnIPv6AddressOneWay: {0}")
    @org.junit.jupiter.params.provider.CsvSource({
            "http://[::1]:80, ::1", "http://[0:0:0:0:0:0:0:1]:80, ::1", "http://[0000::0001]:80, ::1",
            "http://[2001:DB8::1]:80, 2001:db8::1", "http://[2001:db8:0:0:1:0:0:1]:80, 2001:db8::1:0:0:1",
            "http://[2001:db8:0:1:1:1:1:1]:80, 2001:db8:0:1:1:1:1:1", "http://[::]:80, ::",
            "http://[fe80:0:0:0:0:0:0:0]:80, fe80::", "http://[1:0:0:2:0:0:0:3]:80, 1:0:0:2::3"})
    void shouldSpellAnIPv6AddressOneWay(String url, String host) {
        assertEquals(host, ServerUrl.parse(url).host());
    }
}
