package dev.weldr.nativeimage;

import org.graalvm.nativeimage.hosted.Feature;
import org.graalvm.nativeimage.hosted.RuntimeReflection;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * Native image only (compiled by the {@code native} Maven profile, which passes
 * {@code --features=dev.weldr.nativeimage.AdminJsonFeature}): registers every record of
 * dev.weldr.admin for the reflection Jackson uses to write it. Quarkus registers the types that
 * resource methods return, but not those only ever put in a {@code Response} entity (ApiError,
 * a created server or pool); finding them here means a new record needs no configuration.
 */
public final class AdminJsonFeature implements Feature {

    private static final String PACKAGE = "dev/weldr/admin/";

    @Override
    public void beforeAnalysis(BeforeAnalysisAccess access) {
        for (Path entry : access.getApplicationClassPath()) {
            for (String name : classesIn(entry)) {
                Class<?> type = access.findClassByName(name);
                if (type != null && type.isRecord()) {
                    RuntimeReflection.register(type);
                    RuntimeReflection.register(type.getDeclaredConstructors());
                    RuntimeReflection.register(type.getDeclaredMethods());
                    RuntimeReflection.register(type.getDeclaredFields());
                    RuntimeReflection.registerAllRecordComponents(type);
                }
            }
        }
    }

    /** Names of the classes of dev.weldr.admin (nested ones included) in a jar or directory. */
    private static List<String> classesIn(Path entry) {
        List<String> names = new ArrayList<>();
        try {
            if (Files.isDirectory(entry)) {
                Path dir = entry.resolve(PACKAGE);
                if (Files.isDirectory(dir)) {
                    try (Stream<Path> files = Files.list(dir)) {
                        files.map(f -> PACKAGE + f.getFileName()).forEach(n -> add(n, names));
                    }
                }
            } else if (entry.toString().endsWith(".jar") && Files.isRegularFile(entry)) {
                try (ZipFile jar = new ZipFile(entry.toFile())) {
                    jar.stream().forEach(e -> add(e.getName(), names));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return names;
    }

    private static void add(String path, List<String> names) {
        if (path.startsWith(PACKAGE) && path.endsWith(".class") && path.indexOf('/', PACKAGE.length()) < 0) {
            names.add(path.substring(0, path.length() - ".class".length()).replace('/', '.'));
        }
    }
}
