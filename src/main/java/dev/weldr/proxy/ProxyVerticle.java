package dev.weldr.proxy;

import dev.weldr.config.WeldrConfig;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.PoolOptions;

/**
 * One data-plane instance, bound to one event loop: its own HttpServer (Vert.x spreads the
 * accepted connections of a shared port over the instances) and its own HttpClient, so that
 * backend connections are pooled per event loop and a request never changes thread.
 */
final class ProxyVerticle extends AbstractVerticle {

    private final WeldrConfig config;
    private final BackendRegistry registry;
    private final ProxyStats stats;
    private final int port;
    private volatile int actualPort = -1;

    ProxyVerticle(WeldrConfig config, BackendRegistry registry, ProxyStats stats, int port) {
        this.config = config;
        this.registry = registry;
        this.stats = stats;
        this.port = port;
    }

    @Override
    public void start(Promise<Void> startPromise) {
        WeldrConfig.Timeout timeout = config.timeout();
        HttpClientOptions clientOptions = new HttpClientOptions()
                .setKeepAlive(true)
                .setKeepAliveTimeout(30)
                .setPipelining(false)
                .setConnectTimeout((int) timeout.connect().toMillis())
                // Like nginx's proxy_ssl_verify off: backends are usually internal and self-signed.
                .setTrustAll(true)
                .setVerifyHost(false);
        HttpClient client = vertx.createHttpClient(clientOptions, new PoolOptions().setHttp1MaxSize(512).setMaxWaitQueueSize(4096));
        ProxyHandler handler = new ProxyHandler(vertx, client, registry, stats,
                timeout.connect().toMillis(), timeout.read().toMillis(), timeout.write().toMillis());
        HttpServerOptions serverOptions = new HttpServerOptions()
                .setHost(config.proxy().host())
                .setPort(port)
                .setIdleTimeout(75)
                .setCompressionSupported(false)
                .setDecompressionSupported(false)
                // WebSockets are tunnelled as bytes between client and backend, never handled here.
                .setPerMessageWebSocketCompressionSupported(false)
                .setPerFrameWebSocketCompressionSupported(false);
        vertx.setPeriodic(handler.sweepPeriodMs(), id -> handler.sweep());
        vertx.createHttpServer(serverOptions).requestHandler(handler).listen()
                .onSuccess(server -> actualPort = server.actualPort()).<Void>mapEmpty().onComplete(startPromise);
    }

    /** The port this instance listens on, once started. */
    int actualPort() {
        return actualPort;
    }
}
