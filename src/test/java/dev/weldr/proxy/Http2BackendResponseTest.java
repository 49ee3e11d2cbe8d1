package dev.weldr.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * What an h2c server may send that an HTTP/1.1 client must never see as it came: a header value
 * with CR LF (response splitting) and a body after a HEAD's answer (the next response's start).
 * The server is Netty's HTTP/2 codec answering by hand, since HTTP/2 servers that check what they
 * send (Vert.x, grpc-java) cannot send either.
 */
@QuarkusTest
class Http2BackendResponseTest extends ProxyTestBase {

    private NioEventLoopGroup group;
    private Channel server;

    @BeforeEach
    void startServer() throws Exception {
        group = new NioEventLoopGroup(1);
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().validateHeaders(false).build(),
                                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                    @Override
                                    protected void initChannel(Http2StreamChannel stream) {
                                        stream.pipeline().addLast(new Answer());
                                    }
                                }));
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        given().contentType("application/json").body("{\"name\":\"raw\",\"protocol\":\"h2c\",\"healthCheck\":{\"path\":\"/healthz\"}}")
                .post("/pools").then().statusCode(201);
        given().contentType("application/json").body("{\"pathPrefix\":\"/raw/\",\"pool\":\"raw\"}").put("/routes/raw").then().statusCode(200);
        given().contentType("application/json").body("{\"url\":\"http://127.0.0.1:" + port + "\"}").post("/pools/raw/servers")
                .then().statusCode(201);
        await("the raw h2c server is active", () -> "active".equals(given().get("/pools/raw/servers/127.0.0.1/" + port)
                .then().statusCode(200).extract().path("state")));
    }

    @AfterEach
    void stopServer() {
        removeRoutesAndExtraPools();
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** /raw/split: a header value with CR LF; a HEAD: a head saying no length, then 5 bytes anyway; else "ok". */
    private static final class Answer extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (!(msg instanceof Http2HeadersFrame h) || !h.isEndStream()) {
                    return;
                }
                String path = String.valueOf(h.headers().path());
                boolean head = "HEAD".contentEquals(h.headers().method());
                Http2Headers answer = new DefaultHttp2Headers(false).status("200");
                if (path.startsWith("/raw/split")) {
                    answer.add("x-evil", "a\r\nx-injected: yes");
                }
                if (head) {
                    ctx.write(new DefaultHttp2HeadersFrame(answer, false));
                    ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("extra", StandardCharsets.US_ASCII), true));
                } else {
                    answer.add("content-length", "2");
                    ctx.write(new DefaultHttp2HeadersFrame(answer, false));
                    ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII), true));
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    @Test
    void shouldRefuseAHeaderValueWithALineBreakInsteadOfSplittingTheResponse() throws Exception {
        RawHttp client = connect();
        client.sendHead("GET /raw/split HTTP/1.1", "Host: weldr.test");
        RawHttp.Response r = client.read(false);
        assertEquals(502, r.status(), r.text());
        assertNull(r.header("x-injected"), "no line of the backend's making");
        // The connection goes on, in step.
        client.sendHead("GET /raw/fine HTTP/1.1", "Host: weldr.test");
        RawHttp.Response next = client.read(false);
        assertEquals(200, next.status());
        assertEquals("ok", next.text());
    }

    @Test
    void shouldDropABodyAfterTheAnswerToAHeadRequest() throws Exception {
        RawHttp client = connect();
        client.sendHead("HEAD /raw/head HTTP/1.1", "Host: weldr.test");
        RawHttp.Response r = client.read(true);
        assertEquals(200, r.status());
        client.sendHead("GET /raw/after HTTP/1.1", "Host: weldr.test");
        RawHttp.Response next = client.read(false);
        assertEquals(200, next.status(), "the next answer starts where it should, not at the HEAD's stray bytes");
        assertEquals("ok", next.text());
        assertFalse(next.text().contains("extra"));
    }
}
