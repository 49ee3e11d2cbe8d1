package dev.weldr.admin;

import io.quarkus.runtime.annotations.RegisterForReflection;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.Path;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The methods a path of the admin API answers, for the {@code Allow} header a 405 must carry
 * (RFC 9110 §15.5.6). Read once from the resources' own JAX-RS annotations, so it cannot drift
 * from them; quarkus-rest's own 405 carries an empty {@code Allow}.
 */
@RegisterForReflection(targets = {RootResource.class, ServersResource.class, PoolsResource.class,
        RoutesResource.class, StatsResource.class, ClusterResource.class, CertificatesResource.class, AuditResource.class,
        TokensResource.class, EventsResource.class}, methods = true)
final class AllowedMethods {

    /** Every class of the admin API with a {@code @Path}; {@code AllowedMethodsTest} checks none is missing. */
    static final List<Class<?>> RESOURCES = List.of(RootResource.class, ServersResource.class, PoolsResource.class,
            RoutesResource.class, StatsResource.class, ClusterResource.class, CertificatesResource.class, AuditResource.class,
            TokensResource.class, EventsResource.class);

    private record Template(Pattern path, String method) {
    }

    private static final List<Template> TEMPLATES = read();

    private AllowedMethods() {
    }

    /** The order Allow lists methods in; any other method goes after these. */
    private static final List<String> ORDER = List.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT,
            HttpMethod.PATCH, HttpMethod.DELETE, HttpMethod.OPTIONS);

    /** The methods that {@code path} answers, in a stable order; empty when no resource has that path. */
    static List<String> of(String path) {
        String p = path.startsWith("/") ? path : "/" + path;
        Set<String> methods = new HashSet<>();
        for (Template t : TEMPLATES) {
            if (t.path().matcher(p).matches()) {
                methods.add(t.method());
                if (t.method().equals(HttpMethod.GET)) {
                    methods.add(HttpMethod.HEAD);
                }
            }
        }
        if (methods.isEmpty()) {
            return List.of();
        }
        methods.add(HttpMethod.OPTIONS); // quarkus-rest answers OPTIONS on every resource path
        List<String> ordered = new ArrayList<>(methods);
        ordered.sort(Comparator.comparingInt((String m) -> ORDER.contains(m) ? ORDER.indexOf(m) : ORDER.size())
                .thenComparing(Comparator.naturalOrder()));
        return ordered;
    }

    private static List<Template> read() {
        List<Template> templates = new ArrayList<>();
        for (Class<?> resource : RESOURCES) {
            String base = resource.getAnnotation(Path.class).value();
            for (Method m : resource.getMethods()) {
                String method = httpMethod(m);
                if (method != null) {
                    Path sub = m.getAnnotation(Path.class);
                    templates.add(new Template(pattern(join(base, sub == null ? "" : sub.value())), method));
                }
            }
        }
        return List.copyOf(templates);
    }

    private static String httpMethod(Method m) {
        for (var a : m.getAnnotations()) {
            HttpMethod designator = a.annotationType().getAnnotation(HttpMethod.class);
            if (designator != null) {
                return designator.value();
            }
        }
        return null;
    }

    private static String join(String base, String sub) {
        String path = ("/" + base + "/" + sub).replaceAll("/+", "/");
        return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    /** A template such as {@code /pools/{name}/servers} as a pattern; a trailing slash matches too. */
    private static Pattern pattern(String template) {
        StringBuilder regex = new StringBuilder();
        int i = 0;
        while (i < template.length()) {
            int open = template.indexOf('{', i);
            if (open < 0) {
                regex.append(Pattern.quote(template.substring(i)));
                break;
            }
            regex.append(Pattern.quote(template.substring(i, open))).append("[^/]+");
            i = template.indexOf('}', open) + 1;
        }
        return Pattern.compile(template.equals("/") ? "/?" : regex + "/?");
    }
}
