package dev.weldr.tls;

/** The rule for a certificate's name in the API and in {@code weldr.tls.default-certificate}. */
public final class CertificateName {

    public static final String RULE = "a certificate name is 1 to 63 lower-case letters, digits, '.', '-' or '_', starting with a letter or digit";
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

    private CertificateName() {
    }

    public static boolean valid(String name) {
        return name != null && NAME.matcher(name).matches();
    }
}
