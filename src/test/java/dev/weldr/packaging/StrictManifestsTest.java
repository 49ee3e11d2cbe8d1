package dev.weldr.packaging;

import dev.weldr.packaging.StrictManifests.InvalidManifestException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The strict reader that checks k8s/ finds what the API server would refuse (or silently drop). */
class StrictManifestsTest {

    private static final String STATEFUL_SET = """
            apiVersion: apps/v1
            kind: StatefulSet
            metadata:
              name: s
            spec:
              serviceName: s
              replicas: 3
              selector:
                matchLabels: {app: s}
              template:
                metadata:
                  labels: {app: s}
                spec:
                  containers:
                    - name: c
                      image: i
                      env:
                        - name: A
                          value: "1"
                      resources:
                        limits:
                          memory: 512Mi
                      securityContext:
                        readOnlyRootFilesystem: true
            """;

    @Test
    void shouldReadAValidManifestIntoTheTypedModel() {
        List<HasMetadata> resources = StrictManifests.parse("valid", STATEFUL_SET + "---\n" + """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: c}
                data: {A: "1"}
                """);
        assertEquals(2, resources.size());
        StatefulSet set = assertInstanceOf(StatefulSet.class, resources.get(0));
        assertEquals(3, set.getSpec().getReplicas());
        assertEquals("512Mi", set.getSpec().getTemplate().getSpec().getContainers().get(0)
                .getResources().getLimits().get("memory").toString());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            // a misspelt field deep in the tree (fabric8 would keep it in additionalProperties)
            "misspelt field | readOnlyRootFilesystem: true | readOnlyRootFilesytem: true | unknown field [readOnlyRootFilesytem]",
            "field at the wrong level | replicas: 3 | replicas: 3\\n  probe: {}| unknown field [probe]",
            "string for an integer | replicas: 3 | replicas: three | replicas",
            "quoted integer | replicas: 3 | replicas: \"3\" | replicas",
            "integer for a string | value: \"1\" | value: 1 | value",
            "bad quantity | memory: 512Mi | memory: 512 MB | is not a quantity",
            "duplicate key | replicas: 3 | replicas: 3\\n  replicas: 2 | Duplicate field 'replicas'",
            "old API version | apiVersion: apps/v1 | apiVersion: apps/v1beta1 | is not one of",
    })
    void shouldRefuse(String what, String good, String bad, String expected) {
        String yaml = STATEFUL_SET.replace(good, bad.replace("\\n", "\n"));
        assertTrue(!yaml.equals(STATEFUL_SET), "the case must change the manifest: " + what);
        InvalidManifestException e = assertThrows(InvalidManifestException.class, () -> StrictManifests.parse("bad", yaml));
        assertTrue(e.getMessage().contains(expected), what + ": " + e.getMessage());
    }

    @Test
    void shouldRefuseANumberOrABooleanAsConfigMapData() {
        for (String value : List.of("3", "true", "1.5")) {
            String yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {A: " + value + "}\n";
            assertThrows(InvalidManifestException.class, () -> StrictManifests.parse("configmap", yaml), value);
        }
    }
}
