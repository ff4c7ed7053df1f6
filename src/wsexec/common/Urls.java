package wsexec.common;

import java.net.InetAddress;
import java.net.URLDecoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** URL pieces the server and the client read alike: query parameters, IP literals. */
public final class Urls {
    private Urls() {
    }

    /** The decoded value of a query parameter, or null. A '+' stays a '+': tokens may contain it. */
    public static String queryParameter(String query, String name) {
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                try {
                    return URLDecoder.decode(pair.substring(eq + 1).replace("+", "%2B"), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    return null;
                }
            }
        }
        return null;
    }

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    /** Parses an IP literal (never a DNS lookup); null when the text is a name. */
    public static InetAddress ipLiteral(String host) {
        try {
            if (host.startsWith("[") && host.endsWith("]")) {
                String inner = host.substring(1, host.length() - 1);
                return inner.contains(":") && inner.matches("[0-9A-Fa-f:.]+") ? InetAddress.getByName(inner) : null;
            }
            if (IPV4.matcher(host).matches()) {
                return InetAddress.getByName(host);
            }
            if (host.contains(":") && host.matches("[0-9A-Fa-f:.]+")) {
                return InetAddress.getByName(host); // an IPv6 address written without brackets (--hostname, --bind)
            }
        } catch (UnknownHostException e) {
            return null;
        }
        return null;
    }


    /** {@code url} with one more query parameter ({@code name=value}, already encoded). */
    public static java.net.URI withQuery(java.net.URI url, String parameter) {
        String query = url.getRawQuery();
        String text = url.toString();
        int hash = text.indexOf('#');
        String base = hash < 0 ? text : text.substring(0, hash);
        return java.net.URI.create(base + (query == null || query.isEmpty() ? "?" : "&") + parameter);
    }
}
