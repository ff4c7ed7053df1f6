package wsexec;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import wsexec.common.Durations;
import wsexec.common.Log;
import wsexec.server.TrustedProxies;

/**
 * The values of command-line options: sizes ({@code 64KiB}), times ({@code 250ms}, {@code 2h}),
 * ports, addresses, URLs, origins, host names, patterns, CIDRs. Each says which flag it was for
 * when the text is not one.
 */
final class Values {
    private Values() {
    }

    /** {@code --base-path}: a path prefix, normalised to start and end with "/". */
    static String basePath(String text) throws CommandLine.UsageException {
        String path = text.strip();
        if (!path.startsWith("/")) {
            path = "/" + path;
        }
        if (!path.endsWith("/")) {
            path = path + "/";
        }
        if (!path.matches("/([A-Za-z0-9._~\\-]+/)*") || path.contains("/./") || path.contains("/../")) {
            throw new CommandLine.UsageException("--base-path needs a path like /exec/, got '" + text + "'");
        }
        return path;
    }

    static TrustedProxies.Cidr cidr(String text) throws CommandLine.UsageException {
        try {
            return TrustedProxies.Cidr.parse(text);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.UsageException("--trusted-proxy needs an address or CIDR like 127.0.0.1/32 or 10.0.0.0/8: " + e.getMessage());
        }
    }

    static Log.Format logFormat(String text) throws CommandLine.UsageException {
        return switch (text) {
            case "text" -> Log.Format.TEXT;
            case "json" -> Log.Format.JSON;
            case "journal" -> Log.Format.JOURNAL;
            default -> throw new CommandLine.UsageException("--log-format must be text, json or journal, got '" + text + "'");
        };
    }

    /** An origin as browsers send it (RFC 6454 §6.2): scheme://host[:port], lower case, nothing after. */
    static String origin(String text) throws CommandLine.UsageException {
        String origin = text.strip().toLowerCase(Locale.ROOT);
        if (origin.endsWith("/")) {
            origin = origin.substring(0, origin.length() - 1);
        }
        if (!origin.matches("https?://[a-z0-9.\\-]+(:[0-9]{1,5})?|https?://\\[[0-9a-f:.]+\\](:[0-9]{1,5})?")) {
            throw new CommandLine.UsageException("--allow-origin needs an origin like https://example.org or http://localhost:3000, got '" + text + "'");
        }
        return origin;
    }

    static String hostname(String text) throws CommandLine.UsageException {
        String name = text.strip();
        if (name.isEmpty() || !name.matches("[A-Za-z0-9.\\-]+|\\[?[0-9A-Fa-f:.]+\\]?")) {
            throw new CommandLine.UsageException("--hostname needs a host name or IP address, got '" + text + "'");
        }
        return name.startsWith("[") || !name.contains(":") ? name : "[" + name + "]";
    }

    static Pattern regex(String text) throws CommandLine.UsageException {
        try {
            return Pattern.compile(text);
        } catch (PatternSyntaxException e) {
            throw new CommandLine.UsageException("--allow is not a regular expression: " + e.getDescription() + " in '" + text + "'");
        }
    }

    static URI wsUrl(String text) throws CommandLine.UsageException {
        try {
            URI uri = new URI(text);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("ws") && !scheme.equals("wss")) {
                throw new CommandLine.UsageException("--url must start with ws:// or wss://, got '" + text + "'");
            }
            if (uri.getHost() == null) {
                throw new CommandLine.UsageException("--url has no host: '" + text + "'");
            }
            return uri.getPath() == null || uri.getPath().isEmpty()
                    ? new URI(uri.getScheme(), uri.getUserInfo(), uri.getHost(), uri.getPort(), "/", uri.getQuery(), null)
                    : uri;
        } catch (java.net.URISyntaxException e) {
            throw new CommandLine.UsageException("--url is not a URL: '" + text + "'");
        }
    }

    static int port(String text) throws CommandLine.UsageException {
        int port = integer("--port", text);
        if (port < 0 || port > 65535) {
            throw new CommandLine.UsageException("--port must be 0–65535, got " + text);
        }
        return port;
    }

    static InetAddress address(String text) throws CommandLine.UsageException {
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new CommandLine.UsageException("--bind: unknown address '" + text + "'");
        }
    }

    static int positive(String flag, String text) throws CommandLine.UsageException {
        int value = integer(flag, text);
        if (value < 1) {
            throw new CommandLine.UsageException(flag + " must be at least 1, got " + text);
        }
        return value;
    }

    static int integer(String flag, String text) throws CommandLine.UsageException {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new CommandLine.UsageException(flag + " needs a whole number, got '" + text + "'");
        }
    }

    /** Parses a size: a byte count with an optional KiB/MiB/GiB (or K/M/G) suffix; at most 2 GiB - 1. */
    static int size(String flag, String text) throws CommandLine.UsageException {
        String t = text.trim();
        long unit = 1;
        String upper = t.toUpperCase(Locale.ROOT);
        for (String[] suffix : new String[][] {{"KIB", "1024"}, {"MIB", "1048576"}, {"GIB", "1073741824"},
                {"KB", "1000"}, {"MB", "1000000"}, {"GB", "1000000000"}, {"K", "1024"}, {"M", "1048576"}, {"G", "1073741824"}, {"B", "1"}}) {
            if (upper.endsWith(suffix[0])) {
                unit = Long.parseLong(suffix[1]);
                t = t.substring(0, t.length() - suffix[0].length()).trim();
                break;
            }
        }
        try {
            long value = Long.parseLong(t) * unit;
            if (value < 0 || value > Integer.MAX_VALUE) {
                throw new CommandLine.UsageException(flag + " must be between 0 and 2GiB, got " + text);
            }
            return (int) value;
        } catch (NumberFormatException e) {
            throw new CommandLine.UsageException(flag + " needs a size like 1048576, 64KiB or 1MiB, got '" + text + "'");
        }
    }

    /** A size that must hold at least one byte (a buffer or a cap that 0 would make useless). */
    static int positiveSize(String flag, String text) throws CommandLine.UsageException {
        int value = size(flag, text);
        if (value < 1) {
            throw new CommandLine.UsageException(flag + " must be at least 1 byte, got " + text);
        }
        return value;
    }

    /** {@code 250ms}, {@code 10s}, {@code 1.5m}, {@code 2h}, {@code 1d}, or a bare number of seconds. */
    static Duration duration(String flag, String text) throws CommandLine.UsageException {
        Duration d = text.strip().matches("-?\\d+(\\.\\d+)?")
                ? Duration.ofMillis(Math.round(Double.parseDouble(text.strip()) * 1000))
                : Durations.parse(text);
        if (d == null) {
            throw new CommandLine.UsageException(flag + " needs a duration like 500ms, 10s or 2m, got '" + text + "'");
        }
        return nonNegative(flag, d, text);
    }

    static Duration nonNegative(String flag, Duration d, String text) throws CommandLine.UsageException {
        if (d.isNegative()) {
            throw new CommandLine.UsageException(flag + " must not be negative, got " + text);
        }
        return d;
    }
}
