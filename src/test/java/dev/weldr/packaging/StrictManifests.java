package dev.weldr.packaging;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Reads Kubernetes manifests into the fabric8 object model, strictly: a field the model does not
 * know (anywhere in the tree: fabric8 keeps those in {@code additionalProperties} instead of
 * failing), a value of the wrong type (a string for an integer, a number for a string, an
 * unparseable quantity), a duplicate key, or a kind this project does not use is an error that
 * names the document and the path.
 */
final class StrictManifests {

    /** The kinds weldr's manifests use, by {@code apiVersion/kind}. */
    private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "v1/ConfigMap", ConfigMap.class,
            "v1/Secret", Secret.class,
            "v1/Service", Service.class,
            "apps/v1/StatefulSet", StatefulSet.class,
            "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class,
            "networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class);

    private static final ObjectMapper MAPPER = strictMapper();

    private StrictManifests() {
    }

    private static ObjectMapper strictMapper() {
        YAMLMapper mapper = YAMLMapper.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .build();
        // The API server takes no number or boolean where a string goes (env values, ConfigMap data).
        mapper.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        return mapper;
    }

    /** Thrown for a manifest that is not valid for its kind. */
    static final class InvalidManifestException extends RuntimeException {
        InvalidManifestException(String message) {
            super(message);
        }
    }

    /** Every document of a (possibly multi-document) YAML text, each strictly typed. */
    static List<HasMetadata> parse(String source, String yaml) {
        List<HasMetadata> resources = new ArrayList<>();
        List<JsonNode> documents = documents(source, yaml);
        int index = 0;
        for (JsonNode document : documents) {
            String where = documents.size() == 1 ? source : source + " (document " + index + ")";
            index++;
            if (document == null || document.isNull() || document.isMissingNode()) {
                continue;
            }
            resources.add(parse(where, document));
        }
        return resources;
    }

    /**
     * Every document of a YAML text as a tree, strictly read (duplicate keys fail), for output that
     * mixes our kinds with others' (cert-manager's): {@link #parse(String, JsonNode)} types ours.
     */
    static List<JsonNode> documents(String source, String yaml) {
        try (JsonParser parser = MAPPER.createParser(yaml)) {
            MappingIterator<JsonNode> it = MAPPER.readValues(parser, JsonNode.class);
            return it.readAll();
        } catch (IOException e) {
            throw new InvalidManifestException(source + ": not valid YAML: " + message(e));
        }
    }

    static HasMetadata parse(String where, JsonNode document) {
        String apiVersion = document.path("apiVersion").asText("");
        String kind = document.path("kind").asText("");
        Class<? extends HasMetadata> type = KINDS.get(apiVersion + "/" + kind);
        if (type == null) {
            throw new InvalidManifestException(where + ": apiVersion '" + apiVersion + "' kind '" + kind
                    + "' is not one of " + KINDS.keySet());
        }
        HasMetadata resource;
        try {
            resource = MAPPER.treeToValue(document, type);
        } catch (IOException e) {
            throw new InvalidManifestException(where + ": " + kind + ": " + message(e));
        }
        List<String> problems = new ArrayList<>();
        walk(resource, kind, problems);
        if (!problems.isEmpty()) {
            throw new InvalidManifestException(where + ": " + String.join("; ", problems));
        }
        if (resource.getMetadata() == null || resource.getMetadata().getName() == null) {
            throw new InvalidManifestException(where + ": " + kind + " has no metadata.name");
        }
        return resource;
    }

    private static String message(IOException e) {
        if (e instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()) {
            return mapping.getOriginalMessage() + " (at " + mapping.getPathReference() + ")";
        }
        if (e instanceof JsonProcessingException processing) {
            return processing.getOriginalMessage()
                    + (processing.getLocation() == null ? "" : " (line " + processing.getLocation().getLineNr() + ")");
        }
        return e.getMessage();
    }

    /** Walks the typed tree the way Jackson sees it, collecting unknown fields and bad quantities. */
    private static void walk(Object value, String path, List<String> problems) {
        if (value == null) {
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> walk(v, path + "." + k, problems));
            return;
        }
        if (value instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                walk(item, path + "[" + i++ + "]", problems);
            }
            return;
        }
        Class<?> type = value.getClass();
        if (!type.getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        Map<?, ?> unknown = additionalProperties(value);
        if (unknown != null && !unknown.isEmpty()) {
            problems.add(path + ": unknown field" + (unknown.size() > 1 ? "s " : " ") + unknown.keySet());
        }
        if (value instanceof Quantity quantity) {
            try {
                Quantity.getAmountInBytes(quantity);
            } catch (RuntimeException e) {
                problems.add(path + ": '" + quantity + "' is not a quantity");
            }
            return;
        }
        for (BeanPropertyDefinition property : MAPPER.getSerializationConfig()
                .introspect(MAPPER.constructType(type)).findProperties()) {
            if (property.getAccessor() == null || property.getName().equals("additionalProperties")) {
                continue;
            }
            walk(property.getAccessor().getValue(value), path + "." + property.getName(), problems);
        }
    }

    private static Map<?, ?> additionalProperties(Object value) {
        try {
            Method getter = value.getClass().getMethod("getAdditionalProperties");
            return (Map<?, ?>) getter.invoke(value);
        } catch (NoSuchMethodException e) {
            return null;
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads plain YAML (the kustomization, which is no Kubernetes object) as a tree, strictly. */
    static JsonNode tree(String source, String yaml) {
        try {
            return MAPPER.readTree(yaml);
        } catch (IOException e) {
            throw new InvalidManifestException(source + ": not valid YAML: " + message(e));
        }
    }
}
