package dev.weldr.admin;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;

import java.io.IOException;

/** Request bodies are parsed here, so that every kind of bad JSON gets the same clear 400. */
final class Json {

    // A key given twice ({"url": a, "url": b}) is a mistake to report, not a choice to make silently.
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private Json() {
    }

    static JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            return MissingNode.getInstance();
        }
        try (JsonParser parser = MAPPER.createParser(body)) {
            JsonNode node = MAPPER.readTree(parser);
            // Checked here rather than with FAIL_ON_TRAILING_TOKENS, whose message names Jackson's classes.
            if (parser.nextToken() != null) {
                throw new ApiException(400, "bad_json", "the body is not valid JSON: it goes on after the first JSON value");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new ApiException(400, "bad_json", "the body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ApiException(400, "bad_json", "the body is not valid JSON");
        }
    }
}
