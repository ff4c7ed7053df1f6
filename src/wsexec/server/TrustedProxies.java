package wsexec.server;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import wsexec.common.Urls;
import wsexec.websocket.HttpRequest;

/**
 * The reverse proxies of {@code --trusted-proxy CIDR}, and what their headers say about the client.
 *
 * <p>A proxy in front of the server makes every connection come from the proxy's address; it passes
 * the client's own address, scheme and host in headers: {@code Forwarded} (RFC 7239) or the older
 * {@code X-Forwarded-For} / {@code X-Forwarded-Proto} / {@code X-Forwarded-Host}. Anyone can send
 * those headers, so they are read only when the connection comes from a trusted proxy; from any other
 * peer they are ignored, and the socket's address is the client.
 *
 * <p>The address lists are walked from the right (the hop nearest to us) to the left, skipping
 * addresses that are themselves trusted proxies: the first untrusted one is the client. Entries left
 * of it were written by whoever that client is, and are not believed. If every hop is trusted, the
 * leftmost is the client.
 */
public final class TrustedProxies {
    /** None: every peer is taken at its socket address. */
    public static final TrustedProxies NONE = new TrustedProxies(List.of());

    /** An IPv4 or IPv6 network: an address and how many leading bits of it count. */
    public record Cidr(byte[] network, int bits) {
        /** Parses {@code 10.0.0.0/8}, {@code 127.0.0.1} (one address), {@code ::1/128}; never a DNS lookup. */
        public static Cidr parse(String text) {
            String t = text.strip();
            int slash = t.indexOf('/');
            String address = slash < 0 ? t : t.substring(0, slash);
            InetAddress literal = Urls.ipLiteral(address.startsWith("[") ? address : (address.contains(":") ? "[" + address + "]" : address));
            if (literal == null) {
                throw new IllegalArgumentException("not an IP address or CIDR: '" + text + "'");
            }
            byte[] bytes = literal.getAddress();
            int bits = bytes.length * 8;
            if (slash >= 0) {
                try {
                    bits = Integer.parseInt(t.substring(slash + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("not a prefix length in '" + text + "'");
                }
                if (bits < 0 || bits > bytes.length * 8) {
                    throw new IllegalArgumentException("prefix length out of range in '" + text + "'");
                }
            }
            return new Cidr(bytes, bits);
        }

        public boolean contains(InetAddress address) {
            byte[] a = address.getAddress();
            if (a.length != network.length) {
                return false;
            }
            for (int bit = 0; bit < bits; bit++) {
                int mask = 0b1000_0000 >>> (bit % 8);
                if ((a[bit / 8] & mask) != (network[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * What the server believes about a client.
     *
     * @param address the client's address: the socket's, or the one a trusted proxy forwarded
     * @param scheme  "http" or "https" as the client used it, when a trusted proxy said so; else null
     * @param host    the host (and port) the client asked for, when a trusted proxy said so; else null
     */
    public record Client(InetAddress address, String scheme, String host) {
    }

    private final List<Cidr> proxies;

    public TrustedProxies(List<Cidr> proxies) {
        this.proxies = List.copyOf(proxies);
    }

    public boolean isEmpty() {
        return proxies.isEmpty();
    }

    public boolean trusts(InetAddress address) {
        for (Cidr cidr : proxies) {
            if (cidr.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The client behind a connection from {@code peer}. {@code Forwarded} wins over the
     * {@code X-Forwarded-*} headers when both are present.
     */
    public Client client(InetAddress peer, HttpRequest request) {
        if (!trusts(peer)) {
            return new Client(peer, null, null);
        }
        List<String[]> forwarded = forwardedElements(request);
        if (!forwarded.isEmpty()) {
            int chosen = walk(forwarded.stream().map(e -> e[0]).toList());
            if (chosen < 0) {
                return new Client(peer, null, null);
            }
            String[] element = forwarded.get(chosen);
            return new Client(Urls.ipLiteral(bracketed(element[0])), scheme(element[1]), host(element[2]));
        }
        List<String> xff = values(request, "X-Forwarded-For");
        int chosen = walk(xff);
        InetAddress address = chosen < 0 ? peer : Urls.ipLiteral(bracketed(xff.get(chosen)));
        List<String> proto = values(request, "X-Forwarded-Proto");
        List<String> host = values(request, "X-Forwarded-Host");
        // The proxy nearest to us appended last; its word on scheme and host is the one to take.
        return new Client(address, proto.isEmpty() ? null : scheme(proto.get(proto.size() - 1)),
                host.isEmpty() ? null : host(host.get(host.size() - 1)));
    }

    /**
     * The index of the client in a list of addresses, nearest hop last: from the right, the first
     * address that is not a trusted proxy; the leftmost if all are; -1 if the list is empty or an
     * entry on the way is not an IP address (an obfuscated {@code _name} or {@code unknown}).
     */
    int walk(List<String> addresses) {
        for (int i = addresses.size() - 1; i >= 0; i--) {
            InetAddress address = Urls.ipLiteral(bracketed(addresses.get(i)));
            if (address == null) {
                return -1;
            }
            if (!trusts(address) || i == 0) {
                return i;
            }
        }
        return -1;
    }

    /** Every comma-separated entry of every field of a header, in order, trimmed. */
    static List<String> values(HttpRequest request, String name) {
        List<String> values = new ArrayList<>();
        for (HttpRequest.Header header : request.headers()) {
            if (header.name().equalsIgnoreCase(name)) {
                for (String part : header.value().split(",")) {
                    if (!part.isBlank()) {
                        values.add(part.strip());
                    }
                }
            }
        }
        return values;
    }

    /**
     * RFC 7239 §4: {@code Forwarded: for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8::1]:4711"};
     * each element as {for, proto, host} (nulls where absent), node names without their port.
     */
    static List<String[]> forwardedElements(HttpRequest request) {
        List<String[]> elements = new ArrayList<>();
        for (String element : values(request, "Forwarded")) {
            String[] fields = new String[3];
            for (String pair : element.split(";")) {
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    continue;
                }
                String name = pair.substring(0, eq).strip().toLowerCase(Locale.ROOT);
                String value = unquote(pair.substring(eq + 1).strip());
                switch (name) {
                    case "for" -> fields[0] = withoutPort(value);
                    case "proto" -> fields[1] = value;
                    case "host" -> fields[2] = value;
                    default -> {
                        // "by" and extensions: not needed to find the client
                    }
                }
            }
            elements.add(new String[] {fields[0] == null ? "unknown" : fields[0], fields[1], fields[2]});
        }
        return elements;
    }

    /** RFC 7230 §3.2.6 quoted-string, as RFC 7239 §4 uses it for IPv6 and ports. */
    private static String unquote(String value) {
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
            return value.substring(1, value.length() - 1).replace("\\", "");
        }
        return value;
    }

    /** RFC 7239 §6: a node is an address with an optional port; IPv6 in brackets. */
    private static String withoutPort(String node) {
        if (node.startsWith("[")) {
            int close = node.indexOf(']');
            return close < 0 ? node : node.substring(0, close + 1);
        }
        int colon = node.indexOf(':');
        return colon < 0 ? node : node.substring(0, colon);
    }

    /** An IPv6 address without brackets gets them, so that {@link Urls#ipLiteral} reads it. */
    private static String bracketed(String address) {
        return !address.startsWith("[") && address.contains(":") ? "[" + address + "]" : address;
    }

    private static String scheme(String value) {
        if (value == null) {
            return null;
        }
        String s = value.toLowerCase(Locale.ROOT);
        return s.equals("http") || s.equals("https") ? s : null;
    }

    /** A host and optional port, nothing that could smuggle another field or line into a log. */
    private static String host(String value) {
        return value != null && value.matches("[A-Za-z0-9.\\-]+(:[0-9]{1,5})?|\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?") ? value : null;
    }
}
