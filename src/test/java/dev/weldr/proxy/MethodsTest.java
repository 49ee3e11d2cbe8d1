package dev.weldr.proxy;

import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.http.HttpHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every method reaches the backend as the client sent it, with the same path and query. */
@QuarkusTest
class MethodsTest extends ProxyTestBase {

    private static final Set<String> WITH_BODY = Set.of("POST", "PUT", "PATCH");
    /** Percent-encoded bytes, an encoded slash, an empty value and a flag: nothing is normalised. */
    private static final String TARGET = "/some/p%C3%A4th%20x/./end?a=1&b=two%2Fthree&c=&flag";

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"})
    void shouldForwardTheMethodPathAndQueryUnchanged(String method) throws Exception {
        TestBackend backend = backend(TestBackend.options().responder((seen, response) ->
                response.putHeader("x-seen-method", seen.method().name()).end("done")));
        addServer(backend.port());
        RawHttp client = connect();

        if (WITH_BODY.contains(method)) {
            client.sendHead(method + " " + TARGET + " HTTP/1.1", "Host: weldr.test", "Content-Length: 7").send("payload");
        } else {
            client.sendHead(method + " " + TARGET + " HTTP/1.1", "Host: weldr.test");
        }
        RawHttp.Response response = client.read(method.equals("HEAD"));

        assertEquals(200, response.status());
        assertEquals(method, response.header("x-seen-method"));
        List<TestBackend.Seen> seen = backend.seen();
        assertEquals(1, seen.size());
        assertEquals(method, seen.get(0).method().name());
        assertEquals(TARGET, seen.get(0).uri());
        if (WITH_BODY.contains(method)) {
            assertEquals("payload", seen.get(0).body().toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void shouldAnswerHeadWithTheContentLengthAndNoBody() throws Exception {
        TestBackend backend = backend(TestBackend.options().responder((seen, response) -> {
            if (seen.method().name().equals("HEAD")) {
                response.putHeader(HttpHeaders.CONTENT_LENGTH, "11").end();
            } else {
                response.end("hello world");
            }
        }));
        addServer(backend.port());
        RawHttp client = connect();

        client.sendHead("HEAD /file HTTP/1.1", "Host: weldr.test");
        RawHttp.Head head = client.readHead();
        assertEquals(200, head.status());
        assertEquals(11, head.contentLength(), "the Content-Length of the GET answer is kept");
        // The next request on the same connection: its status line must be the very next bytes.
        // A body after the HEAD answer would come first, and readHead would fail on it.
        client.sendHead("GET /file HTTP/1.1", "Host: weldr.test");
        RawHttp.Response next = client.read(false);
        assertEquals(200, next.status());
        assertEquals("hello world", next.text());
    }
}
