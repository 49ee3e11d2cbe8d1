package dev.weldr.raft;

import dev.weldr.pool.BackendProtocol;
import dev.weldr.pool.BackendTls;
import dev.weldr.pool.HealthCheckSpec;
import dev.weldr.pool.Hsts;
import dev.weldr.pool.LbPolicy;
import dev.weldr.pool.Limits;
import dev.weldr.pool.OutlierSpec;
import dev.weldr.pool.Pool;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Route;
import dev.weldr.pool.Server;
import dev.weldr.pool.ServerKey;
import dev.weldr.pool.Topology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CodecTest {

    private static final Server A = new Server("http", "127.0.0.1", 8001, 1, false);
    private static final Server B = new Server("https", "::1", 443, 5, true);
    private static final PoolSettings HASHED = new PoolSettings(
            new LbPolicy(LbPolicy.Kind.CONSISTENT_HASH, LbPolicy.HashOn.HEADER, "X-User"),
            new HealthCheckSpec(Duration.ofSeconds(5), Duration.ofMillis(700), "/health", 200, 399, 4, 3),
            new OutlierSpec(7, true, Duration.ofSeconds(10), Duration.ofSeconds(60), 25),
            new Limits(2, 100),
            new BackendTls(true, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "api.internal"));
    private static final PoolSettings GRPC_H2C = new PoolSettings(LbPolicy.ROUND_ROBIN,
            new HealthCheckSpec(Duration.ofSeconds(1), null, null, null, null, 2, 1, "my.pkg.Orders"),
            OutlierSpec.DEFAULTS, Limits.DEFAULTS, BackendTls.DEFAULTS, BackendProtocol.H2C);
    private static final PoolSettings GRPC_H2_WHOLE_SERVER = new PoolSettings(LbPolicy.ROUND_ROBIN,
            new HealthCheckSpec(null, null, null, null, null, null, null, ""),
            OutlierSpec.DEFAULTS, Limits.DEFAULTS, new BackendTls(false, null, null), BackendProtocol.H2);
    private static final PoolSettings UNVERIFIED = new PoolSettings(LbPolicy.ROUND_ROBIN, HealthCheckSpec.DEFAULTS,
            OutlierSpec.DEFAULTS, Limits.DEFAULTS, new BackendTls(false, null, null));

    @Test
    void shouldRoundTripEveryCommand() throws Exception {
        for (PoolCommand command : List.of(
                new PoolCommand.AddServer(Pool.DEFAULT, A), new PoolCommand.AddServer("api", B),
                new PoolCommand.RemoveServer("api", new ServerKey("::1", 443)),
                new PoolCommand.UpdateServer(Pool.DEFAULT, new ServerKey("127.0.0.1", 8001), 3, null),
                new PoolCommand.UpdateServer(Pool.DEFAULT, new ServerKey("127.0.0.1", 8001), null, true),
                new PoolCommand.CreatePool("api", HASHED), new PoolCommand.CreatePool("plain", PoolSettings.DEFAULTS),
                new PoolCommand.UpdatePool("api", PoolSettings.DEFAULTS), new PoolCommand.UpdatePool("api", UNVERIFIED),
                new PoolCommand.CreatePool("grpc", GRPC_H2C), new PoolCommand.UpdatePool("grpc", GRPC_H2_WHOLE_SERVER),
                new PoolCommand.DeletePool("api"),
                new PoolCommand.PutRoute(new Route("r", "shop.example", "/cart", "api")), new PoolCommand.DeleteRoute("r"),
                new PoolCommand.PutRoute(new Route("s", "shop.example", "/", "api", true, new Hsts(63072000, true, true))),
                new PoolCommand.PutRoute(new Route("t", "", "/", "api", false, new Hsts(0, false, false))),
                new PoolCommand.RegisterNode("10.0.0.1:8688", "http://10.0.0.1:8687"))) {
            assertEquals(command, CommandCodec.decode(ByteBuffer.wrap(CommandCodec.encode(command))));
        }
    }

    /**
     * Entries and snapshots written before backends were verified have no tls: they read as the
     * default, verified (as the empty topology's default pool is, so log and snapshot agree).
     */
    @Test
    void shouldReadPoolSettingsWrittenBeforeBackendTlsAsVerified() throws Exception {
        String settings = "{\"policy\":{\"kind\":\"ROUND_ROBIN\"},\"healthCheck\":{},"
                + "\"outlier\":{\"consecutiveFailures\":5,\"count5xx\":false,\"baseEjectionMs\":30000,\"maxEjectionMs\":300000,\"maxEjectionPercent\":10},"
                + "\"limits\":{\"retries\":1,\"maxRequests\":0}}";
        PoolCommand old = CommandCodec.decode(ByteBuffer.wrap(("{\"op\":\"update-pool\",\"name\":\"api\",\"settings\":" + settings + "}")
                .getBytes(StandardCharsets.UTF_8)));
        assertEquals(BackendTls.DEFAULTS, ((PoolCommand.UpdatePool) old).settings().tls());
        assertEquals(PoolSettings.DEFAULTS, ((PoolCommand.UpdatePool) old).settings());
        String snapshot = "{\"format\":2,\"appliedIndex\":7,\"pools\":[{\"name\":\"default\",\"settings\":" + settings
                + ",\"servers\":[{\"scheme\":\"https\",\"host\":\"10.0.0.1\",\"port\":443}]}],\"routes\":[],\"nodes\":{}}";
        Topology t = SnapshotCodec.fromBytes(snapshot.getBytes(StandardCharsets.UTF_8));
        assertEquals(BackendTls.DEFAULTS, t.defaultPool().settings().tls());
        assertEquals(Topology.EMPTY.defaultPool().settings(), t.defaultPool().settings(), "as a replay of the log from the start");
    }

    /**
     * Entries and snapshots written before pools had a protocol (the exact bytes of the previous
     * version) read as HTTP/1.1 pools with HTTP checks; such settings are still written as those bytes.
     */
    @Test
    void shouldReadPoolSettingsWrittenBeforeProtocolsAsHttp1WithAnHttpCheck() throws Exception {
        String settings = "{\"policy\":{\"kind\":\"LEAST_REQUESTS\"},\"healthCheck\":{\"intervalMs\":5000,\"path\":\"/health\"},"
                + "\"outlier\":{\"consecutiveFailures\":5,\"count5xx\":false,\"baseEjectionMs\":30000,\"maxEjectionMs\":300000,\"maxEjectionPercent\":10},"
                + "\"limits\":{\"retries\":1,\"maxRequests\":0},\"tls\":{\"verify\":true}}";
        byte[] entry = ("{\"op\":\"update-pool\",\"name\":\"api\",\"settings\":" + settings + "}").getBytes(StandardCharsets.UTF_8);
        PoolSettings read = ((PoolCommand.UpdatePool) CommandCodec.decode(ByteBuffer.wrap(entry))).settings();
        assertEquals(BackendProtocol.HTTP1, read.protocol());
        assertEquals(null, read.healthCheck().grpcService());
        assertEquals(Duration.ofSeconds(5), read.healthCheck().interval());
        assertArrayEquals(entry, CommandCodec.encode(new PoolCommand.UpdatePool("api", read)), "an HTTP/1.1 pool is written as before");

        String snapshot = "{\"format\":2,\"appliedIndex\":7,\"pools\":[{\"name\":\"default\",\"settings\":" + settings
                + ",\"servers\":[{\"scheme\":\"https\",\"host\":\"10.0.0.1\",\"port\":443}]}],\"routes\":[],\"nodes\":{}}";
        Topology t = SnapshotCodec.fromBytes(snapshot.getBytes(StandardCharsets.UTF_8));
        assertEquals(read, t.defaultPool().settings());
    }

    @Test
    void shouldKeepProtocolsAndGrpcChecksInASnapshot(@TempDir Path dir) throws Exception {
        Server plain = new Server("http", "127.0.0.1", 50051, 1, false);
        Topology t = Topology.of(9, List.of(Pool.of(Pool.DEFAULT, PoolSettings.DEFAULTS, List.of(A)),
                        Pool.of("grpc", GRPC_H2C, List.of(plain)), Pool.of("secure", GRPC_H2_WHOLE_SERVER, List.of(B))),
                List.of(), Map.of());
        SnapshotCodec.write(t, dir);
        Topology read = SnapshotCodec.read(dir);
        assertEquals(t, read);
        assertEquals(BackendProtocol.H2C, read.pool("grpc").settings().protocol());
        assertEquals("my.pkg.Orders", read.pool("grpc").settings().healthCheck().grpcService());
        assertEquals(BackendProtocol.H2, read.pool("secure").settings().protocol());
        assertEquals("", read.pool("secure").settings().healthCheck().grpcService(), "the whole server, not an HTTP check");
    }

    @Test
    void shouldRefuseAnEntryItCannotRead() {
        for (String entry : List.of("", "{", "{\"op\":\"explode\"}", "{\"op\":\"add-server\"}",
                "{\"op\":\"remove-server\",\"pool\":\"default\",\"host\":\"a\"}",
                "{\"op\":\"create-pool\",\"name\":\"x\",\"settings\":{\"policy\":{\"kind\":\"FASTEST\"}}}",
                "{\"op\":\"create-pool\",\"name\":\"x\",\"settings\":{\"policy\":{\"kind\":\"ROUND_ROBIN\"},\"protocol\":\"H3\"}}")) {
            ByteBuffer data = ByteBuffer.wrap(entry.getBytes(StandardCharsets.UTF_8));
            assertThrows(CommandCodec.CorruptEntryException.class, () -> CommandCodec.decode(data), entry);
        }
    }

    @Test
    void shouldRoundTripASnapshotWithPoolsRoutesOrderAndIndex(@TempDir Path dir) throws Exception {
        Topology t = Topology.of(42,
                List.of(Pool.of(Pool.DEFAULT, PoolSettings.DEFAULTS, List.of(B, A)), Pool.of("api", HASHED, List.of(A))),
                List.of(new Route("r", "", "/api", "api")), Map.of("10.0.0.2:8688", "http://10.0.0.2:8687"));
        SnapshotCodec.write(t, dir);
        Topology read = SnapshotCodec.read(dir);
        assertEquals(t, read);
        assertEquals(42, read.appliedIndex());
        assertEquals(List.of(B, A), List.copyOf(read.defaultPool().servers()));
        assertEquals(HASHED, read.pool("api").settings());
        assertEquals("http://10.0.0.2:8687", read.nodes().get("10.0.0.2:8688"));
        assertFalse(Files.exists(dir.resolve(SnapshotCodec.FILE + ".tmp")));
    }

    @Test
    void shouldReadARouteWrittenBeforeRouteOptionsExistedWithoutRedirectNorHsts() throws Exception {
        // The exact bytes the previous version wrote for a put-route entry.
        byte[] old = "{\"op\":\"put-route\",\"route\":{\"name\":\"r\",\"host\":\"shop.example\",\"pathPrefix\":\"/cart\",\"pool\":\"api\"}}"
                .getBytes(StandardCharsets.UTF_8);
        assertEquals(new PoolCommand.PutRoute(new Route("r", "shop.example", "/cart", "api", false, null)),
                CommandCodec.decode(ByteBuffer.wrap(old)));
        assertArrayEquals(old, CommandCodec.encode(new PoolCommand.PutRoute(new Route("r", "shop.example", "/cart", "api"))),
                "a route without options is written as before");
        byte[] snapshot = ("{\"format\":2,\"appliedIndex\":7,\"pools\":[{\"name\":\"default\",\"settings\":"
                + new String(TopologyJson.JSON.writeValueAsBytes(TopologyJson.settings(PoolSettings.DEFAULTS)), StandardCharsets.UTF_8)
                + ",\"servers\":[]}],\"routes\":[{\"name\":\"r\",\"host\":\"\",\"pathPrefix\":\"/\",\"pool\":\"default\"}],"
                + "\"nodes\":{}}").getBytes(StandardCharsets.UTF_8);
        Topology read = SnapshotCodec.fromBytes(snapshot);
        assertEquals(List.of(new Route("r", "", "/", Pool.DEFAULT, false, null)), read.routes());
    }

    @Test
    void shouldKeepRouteOptionsInASnapshot(@TempDir Path dir) throws Exception {
        Route redirect = new Route("shop", "shop.example", "/", Pool.DEFAULT, true, new Hsts(31536000, true, false));
        Route hstsOnly = new Route("api", "", "/api", Pool.DEFAULT, false, new Hsts(300, false, false));
        Topology t = Topology.of(3, List.of(Pool.of(Pool.DEFAULT, PoolSettings.DEFAULTS, List.of(A))),
                List.of(redirect, hstsOnly), Map.of());
        SnapshotCodec.write(t, dir);
        assertEquals(List.of(redirect, hstsOnly), SnapshotCodec.read(dir).routes());
    }

    @Test
    void shouldRoundTripAnEmptySnapshot(@TempDir Path dir) throws Exception {
        SnapshotCodec.write(Topology.EMPTY, dir);
        assertEquals(Topology.EMPTY, SnapshotCodec.read(dir));
    }

    @Test
    void shouldRefuseASnapshotOfAnUnknownFormat() {
        byte[] bytes = "{\"format\":99,\"appliedIndex\":1,\"pools\":[]}".getBytes(StandardCharsets.UTF_8);
        assertThrows(java.io.IOException.class, () -> SnapshotCodec.fromBytes(bytes));
    }
}
