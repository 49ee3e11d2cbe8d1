package dev.weldr.admin;

import jakarta.ws.rs.Path;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link AllowedMethods}: the Allow header of a 405, read from the resources' annotations. */
class AllowedMethodsTest {

    @Test
    void shouldKnowEveryResourceClassOfTheAdminApi() throws Exception {
        // Every compiled class of this package that carries @Path must be read, or its 405s say nothing.
        java.nio.file.Path dir = java.nio.file.Path.of(RootResource.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("dev/weldr/admin");
        List<Class<?>> annotated;
        try (var files = Files.list(dir)) {
            annotated = files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(".class") && !n.contains("$"))
                    .<Class<?>>map(n -> load("dev.weldr.admin." + n.substring(0, n.length() - ".class".length())))
                    .filter(c -> c.isAnnotationPresent(Path.class))
                    .toList();
        }
        assertFalse(annotated.isEmpty());
        assertEquals(Set.copyOf(annotated), Set.copyOf(AllowedMethods.RESOURCES));
    }

    @Test
    void shouldMatchTemplatesSegmentBySegment() {
        assertEquals(List.of("GET", "HEAD", "PATCH", "DELETE", "OPTIONS"),
                AllowedMethods.of("/pools/web/servers/10.0.0.1/80"));
        assertEquals(List.of("GET", "HEAD", "POST", "OPTIONS"), AllowedMethods.of("/servers/"));
        assertEquals(List.of("GET", "HEAD", "POST", "OPTIONS"), AllowedMethods.of("servers"));
        // A parameter is one segment: these paths are no resource at all.
        assertTrue(AllowedMethods.of("/servers/10.0.0.1").isEmpty());
        assertTrue(AllowedMethods.of("/servers/10.0.0.1/80/extra").isEmpty());
        assertTrue(AllowedMethods.of("/nope").isEmpty());
    }

    private static Class<?> load(String name) {
        try {
            return Class.forName(name, false, AllowedMethodsTest.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
    }
}
