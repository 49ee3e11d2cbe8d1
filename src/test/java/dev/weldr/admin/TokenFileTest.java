package dev.weldr.admin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tokens file: one {@code name:scope:secret} a line; what it refuses, said without the secret. */
class TokenFileTest {

    private static final String SECRET = "0123456789abcdef-grafana";

    @Test
    void shouldReadNamesScopesAndSecretsOrTheirDigests() throws Exception {
        String hex = HexFormat.of().formatHex(TokenFile.sha256("a-secret-of-the-ci-job"));
        List<Token> tokens = TokenFile.parse("""
                # who may do what
                grafana:read:%s

                ci:admin:sha256:%s
                   deploy_2:admin:with:colons:inside-it   \r
                """.formatted(SECRET, hex.toUpperCase()), null);

        assertEquals(List.of("grafana", "ci", "deploy_2"), tokens.stream().map(Token::name).toList());
        assertEquals(List.of(Token.Scope.READ, Token.Scope.ADMIN, Token.Scope.ADMIN), tokens.stream().map(Token::scope).toList());
        assertArrayEquals(TokenFile.sha256(SECRET), tokens.get(0).digest());
        assertArrayEquals(TokenFile.sha256("a-secret-of-the-ci-job"), tokens.get(1).digest());
        assertArrayEquals(TokenFile.sha256("with:colons:inside-it"), tokens.get(2).digest());
    }

    @Test
    void shouldPutTheSingleAdminTokenFirstAsTheAdminTokenNamedAdmin() throws Exception {
        List<Token> tokens = TokenFile.parse("grafana:read:" + SECRET, "short");

        assertEquals("admin", tokens.get(0).name());
        assertEquals(Token.Scope.ADMIN, tokens.get(0).scope());
        assertArrayEquals(TokenFile.sha256("short"), tokens.get(0).digest());
        assertEquals(2, tokens.size());
    }

    @Test
    void shouldLetAReadTokenOnlyRead() throws Exception {
        Token read = TokenFile.parse("grafana:read:" + SECRET, null).get(0);
        for (String method : List.of("GET", "HEAD", "OPTIONS")) {
            assertTrue(read.allows(method), method);
        }
        for (String method : List.of("POST", "PUT", "PATCH", "DELETE", "get")) {
            assertFalse(read.allows(method), method);
        }
        assertTrue(TokenFile.parse("ops:admin:" + SECRET, null).get(0).allows("DELETE"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "grafana:read                                  | line 1: expected name:scope:secret",
            "Grafana:read:0123456789abcdef                  | line 1: the name must be",
            ":read:0123456789abcdef                         | line 1: the name must be",
            "grafana:write:0123456789abcdef                 | line 1 (token 'grafana'): the scope must be read or admin",
            "grafana:read:short-secret                      | line 1 (token 'grafana'): the secret is 12 characters; it must have at least 16",
            "grafana:read:sha256:abcd                       | line 1 (token 'grafana'): the secret is 11 characters",
            "grafana:read:0123456789abcdef\\nops:admin:0123456789abcdefgh\\ngrafana:admin:fedcba9876543210 | line 3 (token 'grafana'): the name is already given by line 1 (token 'grafana')",
            "grafana:read:0123456789abcdef\\n#\\nops:admin:0123456789abcdef | line 3 (token 'ops'): the secret is the same as the one of line 1 (token 'grafana')",
    })
    void shouldRefuseAFileThatDoesNotParseSayingWhereAndWhyWithoutTheSecret(String content, String problem) {
        TokenFile.Invalid e = assertThrows(TokenFile.Invalid.class, () -> TokenFile.parse(content.replace("\\n", "\n"), null));
        assertTrue(e.getMessage().startsWith(problem), e.getMessage());
        for (String secret : List.of("0123456789abcdef", "short-secret", "fedcba9876543210")) {
            assertFalse(e.getMessage().contains(secret), e.getMessage());
        }
    }

    @Test
    void shouldRefuseAFileTokenThatClashesWithTheSingleAdminToken() {
        TokenFile.Invalid name = assertThrows(TokenFile.Invalid.class, () -> TokenFile.parse("admin:read:" + SECRET, "s3cret"));
        assertEquals("line 1 (token 'admin'): the name is already given by weldr.admin.token", name.getMessage());
        TokenFile.Invalid secret = assertThrows(TokenFile.Invalid.class,
                () -> TokenFile.parse("grafana:read:" + SECRET, SECRET));
        assertEquals("line 1 (token 'grafana'): the secret is the same as the one of weldr.admin.token (token 'admin')",
                secret.getMessage());
    }

    @Test
    void shouldRefuseASecretWithSpacesOrControlCharacters() {
        TokenFile.Invalid e = assertThrows(TokenFile.Invalid.class, () -> TokenFile.parse("grafana:read:0123456789 abcdef", null));
        assertTrue(e.getMessage().contains("visible ASCII"), e.getMessage());
    }

    @Test
    void shouldReserveTheNamesTheAuditLogGivesCallsWithoutANamedToken() throws Exception {
        for (String line : new String[]{"anonymous:read:" + SECRET, "admin:admin:" + SECRET}) {
            TokenFile.Invalid e = assertThrows(TokenFile.Invalid.class, () -> TokenFile.parse(line, null), line);
            assertTrue(e.getMessage().contains("reserved"), e.getMessage());
            assertFalse(e.getMessage().contains(SECRET), e.getMessage());
        }
        assertEquals(List.of("admin", "ops"), TokenFile.parse("ops:admin:" + SECRET, "another-secret-0123456789").stream().map(Token::name).toList());
    }
}
