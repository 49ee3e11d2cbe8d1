package dev.weldr.raft;

import dev.weldr.pool.AcmeAccount;
import dev.weldr.pool.AcmeChallenge;
import dev.weldr.pool.Certificate;
import dev.weldr.pool.ManagedCertificate;
import dev.weldr.pool.ManagedCertificate.State;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.Pool;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Topology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ACME side of the replicated state: its commands, their one pure apply, the log and snapshots. */
class AcmeStateTest {

    private static final List<String> NAMES = List.of("shop.example", "www.shop.example");
    private static final ManagedCertificate REQUESTED = ManagedCertificate.requested("shop", NAMES);
    private static final ManagedCertificate ORDERING = new ManagedCertificate("shop", NAMES, State.PENDING,
            "https://ca.example/order/1", "-----BEGIN EC PRIVATE KEY-----\norder-secret\n-----END EC PRIVATE KEY-----\n",
            List.of(new AcmeChallenge(AcmeChallenge.HTTP_01, "shop.example", "tok1", "tok1.thumb"),
                    new AcmeChallenge(AcmeChallenge.TLS_ALPN_01, "www.shop.example", "tok2", "ZGlnZXN0")),
            "earlier: connection refused", 1_700_000_000_000L, 2, 0);
    private static final Certificate ISSUED = new Certificate("shop", "chain", ORDERING.orderKey());
    private static final ManagedCertificate VALID = new ManagedCertificate("shop", NAMES, State.VALID, null, null, List.of(),
            null, 0, 0, 1_800_000_000_000L);
    private static final AcmeAccount ACCOUNT = new AcmeAccount("https://ca.example/dir", "ops@shop.example",
            "https://ca.example/acct/7", "-----BEGIN EC PRIVATE KEY-----\naccount-secret\n-----END EC PRIVATE KEY-----\n");

    @Test
    void shouldRoundTripTheAcmeCommandsThroughTheLog() throws Exception {
        for (PoolCommand command : List.of(new PoolCommand.PutManagedCertificate(REQUESTED),
                new PoolCommand.AcmeProgress(ORDERING.ofGeneration(41), null), new PoolCommand.AcmeProgress(VALID, ISSUED),
                new PoolCommand.PutAcmeAccount(ACCOUNT),
                new PoolCommand.PutAcmeAccount(new AcmeAccount("https://ca.example/dir", null, null, "key")))) {
            assertEquals(command, CommandCodec.decode(ByteBuffer.wrap(CommandCodec.encode(command))));
        }
    }

    @Test
    void shouldKeepTheAccountAndManagedCertificatesInSnapshots(@TempDir Path dir) throws Exception {
        Topology t = Topology.of(9, List.of(Pool.of(Pool.DEFAULT, PoolSettings.DEFAULTS, List.of())), List.of(), Map.of(),
                List.of(ISSUED), List.of(), ACCOUNT, List.of(ORDERING));
        SnapshotCodec.write(t, dir);
        Topology read = SnapshotCodec.read(dir);
        assertEquals(t, read);
        assertEquals(ORDERING, read.managed().get("shop"));
        assertEquals(ACCOUNT, read.acmeAccount());
    }

    @Test
    void shouldReadASnapshotWrittenBeforeAcme() throws Exception {
        byte[] old = ("{\"format\":2,\"appliedIndex\":3,\"pools\":[{\"name\":\"default\",\"settings\":"
                + "{\"policy\":{\"kind\":\"ROUND_ROBIN\"}},\"servers\":[]}],\"routes\":[],\"nodes\":{},\"certificates\":[],"
                + "\"ticketKeys\":[]}").getBytes(StandardCharsets.UTF_8);
        Topology read = SnapshotCodec.fromBytes(old);
        assertNull(read.acmeAccount());
        assertTrue(read.managed().isEmpty());
    }

    @Test
    void shouldStartAnOrderOnceForTheSameNamesAndAgainForNewOnes() {
        Topology one = Topology.EMPTY.apply(new PoolCommand.PutManagedCertificate(REQUESTED)).topology();
        Topology ordering = one.apply(new PoolCommand.AcmeProgress(ORDERING, null)).topology();
        Outcome same = ordering.apply(new PoolCommand.PutManagedCertificate(REQUESTED));
        assertEquals(Outcome.Result.ALREADY_EXISTS, same.result());
        assertSame(ordering, same.topology(), "the same names again leave the order under way alone");
        Outcome other = ordering.apply(new PoolCommand.PutManagedCertificate(ManagedCertificate.requested("shop", List.of("shop.example"))));
        assertEquals(Outcome.Result.APPLIED, other.result());
        assertEquals(State.PENDING, other.topology().managed().get("shop").state());
        assertNull(other.topology().managed().get("shop").order(), "new names need a new order");
    }

    @Test
    void shouldApplyProgressOnlyForTheNamesStillAskedFor() {
        Topology ordering = Topology.EMPTY.apply(new PoolCommand.PutManagedCertificate(REQUESTED)).topology()
                .apply(new PoolCommand.AcmeProgress(ORDERING, null)).topology();
        Topology changed = ordering.apply(new PoolCommand.PutManagedCertificate(
                ManagedCertificate.requested("shop", List.of("shop.example")))).topology();
        Outcome stale = changed.apply(new PoolCommand.AcmeProgress(VALID, ISSUED));
        assertEquals(Outcome.Result.NOT_FOUND, stale.result(), "a certificate for the old names must not land");
        assertFalse(stale.topology().certificates().containsKey("shop"));
        Outcome deleted = ordering.apply(new PoolCommand.DeleteCertificate("shop"));
        assertEquals(Outcome.Result.APPLIED, deleted.result());
        assertEquals(Outcome.Result.NOT_FOUND, deleted.topology().apply(new PoolCommand.AcmeProgress(VALID, ISSUED)).result(),
                "work finished for a removed certificate is dropped");
    }

    @Test
    void shouldDropProgressMadeForAnEarlierRequestOfTheSameNames() {
        Topology asked = Topology.EMPTY.withIndex(4).apply(new PoolCommand.PutManagedCertificate(REQUESTED)).topology().withIndex(5);
        long first = asked.managed().get("shop").generation();
        assertEquals(4, first, "the generation is the index the request was put after: the same on every replica");
        Topology askedAgain = asked.apply(new PoolCommand.DeleteCertificate("shop")).topology().withIndex(6)
                .apply(new PoolCommand.PutManagedCertificate(REQUESTED)).topology().withIndex(7);
        Outcome stale = askedAgain.apply(new PoolCommand.AcmeProgress(VALID.ofGeneration(first), ISSUED));
        assertEquals(Outcome.Result.NOT_FOUND, stale.result(), "the first request's certificate must not land on the second");
        Outcome current = askedAgain.apply(new PoolCommand.AcmeProgress(VALID.ofGeneration(6), ISSUED));
        assertEquals(Outcome.Result.APPLIED, current.result());
        assertEquals(6, current.topology().managed().get("shop").generation());
    }

    @Test
    void shouldServeTheIssuedCertificateUnderTheManagedName() {
        Topology ordering = Topology.EMPTY.apply(new PoolCommand.PutManagedCertificate(REQUESTED)).topology()
                .apply(new PoolCommand.AcmeProgress(ORDERING, null)).topology();
        Topology valid = ordering.apply(new PoolCommand.AcmeProgress(VALID, ISSUED)).topology();
        assertEquals(ISSUED, valid.certificates().get("shop"));
        assertEquals(State.VALID, valid.managed().get("shop").state());
        assertTrue(valid.managed().get("shop").challenges().isEmpty());
    }

    @Test
    void shouldTurnAManagedCertificateIntoAnUploadedOneAndRemoveBoth() {
        Topology valid = Topology.EMPTY.apply(new PoolCommand.PutManagedCertificate(REQUESTED)).topology()
                .apply(new PoolCommand.AcmeProgress(VALID, ISSUED)).topology();
        Certificate upload = new Certificate("shop", "uploaded chain", "uploaded key");
        Topology uploaded = valid.apply(new PoolCommand.PutCertificate(upload)).topology();
        assertEquals(upload, uploaded.certificates().get("shop"));
        assertFalse(uploaded.managed().containsKey("shop"), "an upload ends the ACME management of that name");
        Topology pendingOnly = Topology.EMPTY.apply(new PoolCommand.PutManagedCertificate(REQUESTED)).topology();
        Outcome removed = pendingOnly.apply(new PoolCommand.DeleteCertificate("shop"));
        assertEquals(Outcome.Result.APPLIED, removed.result(), "a managed certificate not issued yet can be removed");
        assertTrue(removed.topology().managed().isEmpty());
        assertEquals(Outcome.Result.NOT_FOUND, removed.topology().apply(new PoolCommand.DeleteCertificate("shop")).result());
    }

    @Test
    void shouldRetryAFailedCertificateAtOnceWhenAskedForAgain() {
        ManagedCertificate failed = new ManagedCertificate("shop", NAMES, State.FAILED, "https://ca.example/order/1", "key", List.of(),
                "connection: refused", 1_900_000_000_000L, 3, 0);
        Topology t = Topology.EMPTY.apply(new PoolCommand.PutManagedCertificate(REQUESTED)).topology()
                .apply(new PoolCommand.AcmeProgress(failed, null)).topology();
        Outcome again = t.apply(new PoolCommand.PutManagedCertificate(
                ManagedCertificate.requested("shop", List.of("www.shop.example", "shop.example"))));
        assertEquals(Outcome.Result.APPLIED, again.result(), "the same names in another order are the same certificate");
        ManagedCertificate m = again.topology().managed().get("shop");
        assertEquals(0, m.nextAttempt(), "the next attempt is now");
        assertEquals(0, m.failures(), "the backoff starts afresh");
        assertEquals("https://ca.example/order/1", m.order(), "the order under way is kept");
        assertEquals(NAMES, m.names());
        assertEquals(Outcome.Result.ALREADY_EXISTS, again.topology().apply(new PoolCommand.PutManagedCertificate(REQUESTED)).result(),
                "asked once more before that attempt: nothing more to do");
    }

    @Test
    void shouldCapManagedCertificates() {
        Topology t = Topology.EMPTY;
        for (int i = 0; i < Topology.MAX_MANAGED; i++) {
            t = t.apply(new PoolCommand.PutManagedCertificate(ManagedCertificate.requested("c" + i, List.of("c" + i + ".example")))).topology();
        }
        Outcome over = t.apply(new PoolCommand.PutManagedCertificate(ManagedCertificate.requested("one-more", List.of("x.example"))));
        assertEquals(Outcome.Result.TOO_MANY, over.result());
        assertEquals(Outcome.Result.APPLIED, t.apply(new PoolCommand.PutManagedCertificate(
                ManagedCertificate.requested("c1", List.of("other.example")))).result(), "changing one that exists is not adding");
    }

    @Test
    void shouldNeverPrintAKey() {
        Topology t = Topology.of(1, List.of(), List.of(), Map.of(), List.of(ISSUED), List.of(), ACCOUNT, List.of(ORDERING));
        String printed = t + " " + new PoolCommand.AcmeProgress(ORDERING, ISSUED) + " " + new PoolCommand.PutAcmeAccount(ACCOUNT);
        assertFalse(printed.contains("secret"), printed);
    }
}
