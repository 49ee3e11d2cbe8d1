package dev.weldr.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weldr.cluster.PoolService;
import dev.weldr.pool.InvalidServerUrlException;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.Pool;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.Server;
import dev.weldr.pool.ServerKey;
import dev.weldr.pool.ServerUrl;
import dev.weldr.pool.Topology;
import dev.weldr.proxy.Backend;
import dev.weldr.proxy.BackendRegistry;
import dev.weldr.config.WeldrConfig;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The servers of one pool, for {@code /servers} (the default pool, weldr-compatible) and
 * {@code /pools/{name}/servers} alike.
 */
@ApplicationScoped
public class PoolServers {

    static final int MAX_WEIGHT = 1000;
    private static final Set<String> SERVER_FIELDS = Set.of("url", "weight", "draining");
    private static final Set<String> PATCH_FIELDS = Set.of("weight", "draining");

    @Inject
    PoolService service;
    @Inject
    BackendRegistry backends;
    @Inject
    LeaderRoute route;
    @Inject
    WeldrConfig config;
    @Inject
    Vertx vertx;

    public record ServerList(List<ServerView> servers, List<Link> links) {
    }

    public CompletionStage<ServerList> list(String pool, String base, boolean consistent) {
        CompletionStage<Topology> read = consistent ? service.consistent() : CompletableFuture.completedFuture(service.current());
        return read.thenApply(t -> {
            Pool p = existing(t, pool);
            return new ServerList(p.servers().stream().map(s -> view(pool, base, s)).toList(),
                    List.of(new Link("self", base, "GET"), new Link("add", base, "POST")));
        });
    }

    /** Every server of {@code pool}, as {@link #list} shows them. */
    List<ServerView> views(Pool pool, String base) {
        return pool.servers().stream().map(s -> view(pool.name(), base, s)).toList();
    }

    /** The {@code consistent} query parameter: absent is false; anything but true or false is a mistake. */
    static boolean consistent(String value) {
        if (value == null || value.equalsIgnoreCase("false")) {
            return false;
        }
        if (value.equalsIgnoreCase("true")) {
            return true;
        }
        throw ApiException.badRequest("consistent must be true or false, not '" + value + "'");
    }

    public ServerView get(String pool, String base, String ip, String port) {
        Server server = existing(service.current(), pool).get(key(ip, port));
        if (server == null) {
            throw notInPool(ip, port);
        }
        return view(pool, base, server);
    }

    public CompletionStage<Response> add(String pool, String base, String body, LeaderRoute.Call call) {
        Server server = parseNewServer(body);
        return route.run(call, actor -> service.submit(new PoolCommand.AddServer(pool, server), actor).thenApply(outcome -> {
            check(outcome, pool);
            if (outcome.result() == Outcome.Result.ALREADY_EXISTS) {
                throw new ApiException(409, "conflict", "server " + server.id() + " is already in the pool");
            }
            if (outcome.result() == Outcome.Result.WRONG_SCHEME) {
                throw ApiException.badRequest(PoolSettingsJson.schemeProblem(outcome.topology().pool(pool).settings().protocol(), server));
            }
            // A relative Location, as the contract gives it; this runs on the Raft thread, outside the request.
            return Response.status(201).header("Location", path(base, server.key())).entity(view(pool, base, outcome.server())).build();
        }));
    }

    public CompletionStage<Response> update(String pool, String base, String ip, String port, String body, LeaderRoute.Call call) {
        ServerKey key = key(ip, port);
        JsonNode node = Bodies.object(body, "{\"weight\": 2} or {\"draining\": true}", PATCH_FIELDS,
                "a server's weight and draining can be changed");
        Integer weight = Bodies.integer(node, "weight", 1, MAX_WEIGHT);
        Boolean draining = Bodies.bool(node, "draining");
        if (weight == null && draining == null) {
            throw ApiException.badRequest("give a weight, draining, or both");
        }
        return route.run(call, actor -> service.submit(new PoolCommand.UpdateServer(pool, key, weight, draining), actor).thenApply(outcome -> {
            check(outcome, pool);
            if (outcome.result() == Outcome.Result.NOT_FOUND) {
                throw notInPool(ip, port);
            }
            return Response.ok(view(pool, base, outcome.server())).build();
        }));
    }

    /**
     * Removes a server. It gets no new request from the commit on; the answer waits until the
     * requests this node still has in flight to it have finished, up to {@code weldr.timeout.drain}.
     */
    public CompletionStage<Response> remove(String pool, String ip, String port, LeaderRoute.Call call) {
        ServerKey key = key(ip, port);
        return route.run(call, actor -> {
            Backend backend = backends.get(pool, key);
            return service.submit(new PoolCommand.RemoveServer(pool, key), actor).thenCompose(outcome -> {
                check(outcome, pool);
                if (outcome.result() == Outcome.Result.NOT_FOUND) {
                    throw notInPool(ip, port);
                }
                return drained(backend, System.nanoTime() + config.timeout().drain().toNanos());
            }).thenApply(v -> Response.noContent().build());
        });
    }

    private CompletableFuture<Void> drained(Backend backend, long deadline) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        poll(backend, deadline, done);
        return done;
    }

    private void poll(Backend backend, long deadline, CompletableFuture<Void> done) {
        if (backend == null || backend.inFlight() == 0 || System.nanoTime() >= deadline) {
            done.complete(null);
        } else {
            vertx.setTimer(20, id -> poll(backend, deadline, done));
        }
    }

    static String path(String base, ServerKey key) {
        return base + "/" + key.host() + "/" + key.port();
    }

    private ServerView view(String pool, String base, Server server) {
        Backend backend = backends.get(pool, server.key());
        return ServerView.of(server, backend == null ? "active" : backend.state(), path(base, server.key()));
    }

    static Pool existing(Topology topology, String pool) {
        Pool p = topology.pool(pool);
        if (p == null) {
            throw new ApiException(404, "not_found", "pool " + pool + " does not exist");
        }
        return p;
    }

    private static void check(Outcome outcome, String pool) {
        if (outcome.result() == Outcome.Result.NO_SUCH_POOL) {
            throw new ApiException(404, "not_found", "pool " + pool + " does not exist");
        }
    }

    private static ApiException notInPool(String ip, String port) {
        return new ApiException(404, "not_found", "server " + ip + ":" + port + " is not in the pool");
    }

    private static ServerKey key(String ip, String port) {
        try {
            int p = Integer.parseInt(port);
            if (p >= 1 && p <= 65535) {
                return new ServerKey(ip, p);
            }
        } catch (NumberFormatException ignored) {
            // answered below
        }
        throw notInPool(ip, port);
    }

    private static Server parseNewServer(String body) {
        JsonNode node = Bodies.object(body, "{\"url\": \"http://127.0.0.1:8000\"}", SERVER_FIELDS,
                "a server has a url, and may have a weight and draining");
        String url = Bodies.text(node, "url", true);
        Integer weight = Bodies.integer(node, "weight", 1, MAX_WEIGHT);
        Boolean draining = Bodies.bool(node, "draining");
        try {
            ServerUrl parsed = ServerUrl.parse(url);
            return new Server(parsed.scheme(), parsed.host(), parsed.port(),
                    weight == null ? Server.DEFAULT_WEIGHT : weight, draining != null && draining);
        } catch (InvalidServerUrlException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }
}
