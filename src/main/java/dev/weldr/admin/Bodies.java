package dev.weldr.admin;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.Set;

/** Checks of JSON request bodies, each failing with a 400 that says what is wrong. */
final class Bodies {

    private Bodies() {
    }

    /** The body as an object whose fields are all among {@code allowed}. */
    static JsonNode object(String body, String example, Set<String> allowed, String what) {
        JsonNode node = Json.parse(body);
        if (node.isMissingNode() || node.isNull()) {
            throw ApiException.badRequest("the body must be a JSON object, e.g. " + example);
        }
        if (!node.isObject()) {
            throw ApiException.badRequest("the body must be a JSON object, not " + node.getNodeType().name().toLowerCase());
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw ApiException.badRequest("unknown field '" + name + "'; " + what);
            }
        }
        return node;
    }

    static String text(JsonNode node, String field, boolean required) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw ApiException.badRequest(field + " is required");
            }
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest(field + " must be a string");
        }
        return v.asText();
    }

    static Integer integer(JsonNode node, String field, int min, int max) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
            throw ApiException.badRequest(field + " must be a whole number from " + min + " to " + max);
        }
        return v.asInt();
    }

    static Boolean bool(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isBoolean()) {
            throw ApiException.badRequest(field + " must be true or false");
        }
        return v.asBoolean();
    }
}
