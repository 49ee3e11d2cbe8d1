package dev.weldr.admin;

import io.netty.util.NetUtil;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.net.URI;
import java.util.Locale;

/**
 * What a web page in an operator's browser may make that browser do to the admin API. curl and
 * other programs send neither {@code Origin} nor {@code Sec-Fetch-Site}, so nothing here touches them.
 * <ul>
 * <li>A write from another site's page is refused. A page may send a cross-origin POST without a
 * preflight (a text/plain body), and on a node without a token nothing else would stop it
 * adding the attacker's server to a pool.</li>
 * <li>On a node without a token, a browser is answered only at {@code localhost} or an IP
 * address: a page whose own name was made to resolve to this node (DNS rebinding) is
 * same-origin to the browser, and only the name it asked for gives it away.</li>
 * </ul>
 */
public class BrowserGuard {

    @Inject
    AdminTokens tokens;

    @ServerRequestFilter(preMatching = true, priority = 900)
    public Response check(ContainerRequestContext request) {
        String origin = request.getHeaderString("Origin");
        String site = request.getHeaderString("Sec-Fetch-Site");
        if (origin == null && site == null) {
            return null;
        }
        String host = request.getHeaderString(HttpHeaders.HOST);
        if (!safe(request.getMethod()) && (crossSite(site) || origin != null && !sameAuthority(origin, host))) {
            return Errors.response(403, "cross_site", "a " + request.getMethod()
                    + " from another site's page is refused; call the admin API from its own origin or without a browser");
        }
        if (!tokens.required() && !local(host)) {
            return Errors.response(403, "host_not_allowed", "without an admin token this node answers browsers only "
                    + "at localhost or an IP address (a guard against DNS rebinding); set weldr.admin.token or "
                    + "weldr.admin.tokens-file to use a host name");
        }
        return null;
    }

    private static boolean safe(String method) {
        return method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS");
    }

    /** {@code same-site} too: another port of the same host is another origin, and may be anyone's. */
    private static boolean crossSite(String site) {
        return site != null && (site.equalsIgnoreCase("cross-site") || site.equalsIgnoreCase("same-site"));
    }

    /** The page's origin names the host and port this request was sent to ("null" never does). */
    static boolean sameAuthority(String origin, String host) {
        if (host == null) {
            return false;
        }
        try {
            URI uri = new URI(origin);
            if (uri.getScheme() == null || uri.getHost() == null) {
                return false;
            }
            int port = uri.getPort() != -1 ? uri.getPort() : uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
            String authority = uri.getHost() + ":" + port;
            String given = host.lastIndexOf(':') > host.lastIndexOf(']') ? host
                    : host + ":" + (uri.getScheme().equalsIgnoreCase("https") ? 443 : 80);
            return authority.equalsIgnoreCase(given);
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }

    /** {@code localhost}, a name under it, or an IP address, with or without a port. */
    static boolean local(String host) {
        if (host == null) {
            return false;
        }
        String name = host.startsWith("[") ? host.substring(1, Math.max(1, host.indexOf(']')))
                : host.lastIndexOf(':') >= 0 ? host.substring(0, host.lastIndexOf(':')) : host;
        name = name.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        return name.equals("localhost") || name.endsWith(".localhost")
                || NetUtil.isValidIpV4Address(name) || NetUtil.isValidIpV6Address(name);
    }
}
