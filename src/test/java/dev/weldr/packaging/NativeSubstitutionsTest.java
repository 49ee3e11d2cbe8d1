package dev.weldr.packaging;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The GraalVM substitutions in src/native/java are compiled only by the {@code native} profile
 * and checked only by native-image. This checks on the JVM what native-image would refuse: every
 * {@code @Substitute} method and {@code @Alias} field must exist in its target class with the same
 * static-ness, parameter types and type.
 */
class NativeSubstitutionsTest {

    static final Path SOURCES = Path.of("src/native/java");

    private static final Pattern TARGET = Pattern.compile("@TargetClass\\(className = \"([^\"]+)\"\\)\\s*(?:final\\s+)?class\\s+(\\w+)");
    private static final Pattern SUBSTITUTE = Pattern.compile(
            "@Substitute\\s+((?:public|private|protected|static|final|\\s)+)([\\w.<>?, ]+?)\\s+(\\w+)\\(([^)]*)\\)");
    private static final Pattern ALIAS = Pattern.compile("@Alias\\s+((?:public|private|protected|static|final|\\s)+)([\\w.<>?, ]+?)\\s+(\\w+);");
    private static final Pattern IMPORT = Pattern.compile("import\\s+([\\w.]+)\\.(\\w+);");

    record Checked(String target, String member) {
    }

    @Test
    void everySubstitutedMethodAndAliasedFieldExistsInItsTarget() throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(SOURCES)) {
            files = walk.filter(f -> f.toString().endsWith(".java")).toList();
        }
        assertFalse(files.isEmpty(), "no source in " + SOURCES);
        List<Checked> checked = new ArrayList<>();
        for (Path file : files) {
            String source = Files.readString(file);
            Map<String, String> imports = new HashMap<>();
            Matcher im = IMPORT.matcher(source);
            while (im.find()) {
                imports.put(im.group(2), im.group(1) + "." + im.group(2));
            }
            List<int[]> blocks = new ArrayList<>();
            List<String> targets = new ArrayList<>();
            Matcher t = TARGET.matcher(source);
            while (t.find()) {
                blocks.add(new int[] {t.start(), source.length()});
                targets.add(t.group(1));
                if (blocks.size() > 1) {
                    blocks.get(blocks.size() - 2)[1] = t.start();
                }
            }
            for (int i = 0; i < blocks.size(); i++) {
                String body = source.substring(blocks.get(i)[0], blocks.get(i)[1]);
                Class<?> target = NativeImageConfig.load(targets.get(i));
                Matcher s = SUBSTITUTE.matcher(body);
                while (s.find()) {
                    checkMethod(target, s.group(1).contains("static"), type(s.group(2), imports), s.group(3), s.group(4), imports);
                    checked.add(new Checked(target.getName(), s.group(3)));
                }
                Matcher a = ALIAS.matcher(body);
                while (a.find()) {
                    checkField(target, a.group(1).contains("static"), type(a.group(2), imports), a.group(3));
                    checked.add(new Checked(target.getName(), a.group(3)));
                }
            }
        }
        // What the substitutions are there for: bolt's io_uring transport and sofa-common-tools' logger builders.
        assertTrue(checked.contains(new Checked("com.alipay.remoting.util.NettyEventLoopUtil", "newEventLoopGroup")), checked.toString());
        assertTrue(checked.contains(new Checked("com.alipay.sofa.common.log.MultiAppLoggerSpaceManager", "createILoggerFactory")), checked.toString());
        assertEquals(6, checked.size(), "members checked: " + checked);
    }

    private static void checkMethod(Class<?> target, boolean isStatic, Class<?> returnType, String name, String parameters,
                                    Map<String, String> imports) {
        List<Class<?>> types = new ArrayList<>();
        for (String parameter : parameters.split(",")) {
            String p = parameter.strip();
            if (!p.isEmpty()) {
                types.add(type(p.substring(0, p.lastIndexOf(' ')).strip(), imports));
            }
        }
        Method method;
        try {
            method = target.getDeclaredMethod(name, types.toArray(Class[]::new));
        } catch (NoSuchMethodException e) {
            fail(target.getName() + " has no method " + name + types);
            return;
        }
        assertEquals(isStatic, Modifier.isStatic(method.getModifiers()), method + " static-ness");
        assertEquals(returnType, method.getReturnType(), method + " return type");
    }

    private static void checkField(Class<?> target, boolean isStatic, Class<?> type, String name) {
        Field field;
        try {
            field = target.getDeclaredField(name);
        } catch (NoSuchFieldException e) {
            fail(target.getName() + " has no field " + name);
            return;
        }
        assertEquals(isStatic, Modifier.isStatic(field.getModifiers()), field + " static-ness");
        assertEquals(type, field.getType(), field + " type");
    }

    /** A type as written in the source (generics dropped), through the file's imports. */
    private static Class<?> type(String written, Map<String, String> imports) {
        String raw = written.replaceAll("<.*>", "").strip();
        return switch (raw) {
            case "void" -> void.class;
            case "boolean" -> boolean.class;
            case "int" -> int.class;
            case "long" -> long.class;
            default -> NativeImageConfig.load(imports.getOrDefault(raw, raw.contains(".") ? raw : "java.lang." + raw));
        };
    }
}
