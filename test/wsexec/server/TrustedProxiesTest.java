package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import wsexec.websocket.HttpRequest;

/** Which client a connection is for: the parsing of the forwarding headers and the walk through them. */
class TrustedProxiesTest {
    static final TrustedProxies PROXIES = new TrustedProxies(List.of(
            TrustedProxies.Cidr.parse("127.0.0.1/32"), TrustedProxies.Cidr.parse("10.0.0.0/8"), TrustedProxies.Cidr.parse("fd00::/8")));

    static InetAddress ip(String text) throws UnknownHostException {
        return InetAddress.getByName(text);
    }

    static HttpRequest request(String... headerLines) {
        List<HttpRequest.Header> headers = new ArrayList<>();
        headers.add(new HttpRequest.Header("Host", "127.0.0.1:8023"));
        for (String line : headerLines) {
            int colon = line.indexOf(':');
            headers.add(new HttpRequest.Header(line.substring(0, colon), line.substring(colon + 1).strip()));
        }
        return new HttpRequest("GET", "/", "HTTP/1.1", headers);
    }

    @Test
    void cidrsMatchTheirPrefixOnly() throws UnknownHostException {
        TrustedProxies.Cidr ten = TrustedProxies.Cidr.parse("10.0.0.0/8");
        assertTrue(ten.contains(ip("10.255.1.2")));
        assertFalse(ten.contains(ip("11.0.0.1")));
        assertFalse(ten.contains(ip("::ffff:0b00:0001")), "an IPv6 address is never in an IPv4 network");
        TrustedProxies.Cidr odd = TrustedProxies.Cidr.parse("192.168.1.128/25");
        assertTrue(odd.contains(ip("192.168.1.200")));
        assertFalse(odd.contains(ip("192.168.1.127")));
        assertTrue(TrustedProxies.Cidr.parse("127.0.0.1").contains(ip("127.0.0.1")));
        assertFalse(TrustedProxies.Cidr.parse("127.0.0.1").contains(ip("127.0.0.2")));
        assertTrue(TrustedProxies.Cidr.parse("::1/128").contains(ip("::1")));
        assertTrue(TrustedProxies.Cidr.parse("0.0.0.0/0").contains(ip("203.0.113.9")));
        assertThrows(IllegalArgumentException.class, () -> TrustedProxies.Cidr.parse("proxy.example"));
        assertThrows(IllegalArgumentException.class, () -> TrustedProxies.Cidr.parse("10.0.0.0/33"));
        assertThrows(IllegalArgumentException.class, () -> TrustedProxies.Cidr.parse("10.0.0.0/x"));
    }

    @Test
    void untrustedPeersAreTheirOwnSocketAddressWhateverTheySend() throws UnknownHostException {
        TrustedProxies.Client client = PROXIES.client(ip("198.51.100.7"), request(
                "X-Forwarded-For: 203.0.113.9", "X-Forwarded-Proto: https", "X-Forwarded-Host: ops.example",
                "Forwarded: for=203.0.113.10;proto=https;host=ops.example"));
        assertEquals(ip("198.51.100.7"), client.address());
        assertNull(client.scheme());
        assertNull(client.host());
        assertEquals(ip("127.0.0.1"), TrustedProxies.NONE.client(ip("127.0.0.1"), request("X-Forwarded-For: 203.0.113.9")).address(),
                "with no --trusted-proxy not even loopback is believed");
    }

    @Test
    void xForwardedForIsWalkedFromTheRightSkippingTrustedHops() throws UnknownHostException {
        // client forged "1.2.3.4", then its real address was appended by the edge proxy, then an inner proxy
        TrustedProxies.Client client = PROXIES.client(ip("127.0.0.1"), request(
                "X-Forwarded-For: 1.2.3.4, 203.0.113.9", "X-Forwarded-For: 10.1.2.3", "X-Forwarded-Proto: https",
                "X-Forwarded-Host: ops.example"));
        assertEquals(ip("203.0.113.9"), client.address());
        assertEquals("https", client.scheme());
        assertEquals("ops.example", client.host());
        assertEquals(ip("2001:db8::5"), PROXIES.client(ip("10.9.9.9"), request("X-Forwarded-For: 2001:db8::5,fd00::1")).address());
    }

    @Test
    void allTrustedMeansTheLeftmostAndNothingMeansTheProxy() throws UnknownHostException {
        assertEquals(ip("10.0.0.1"), PROXIES.client(ip("127.0.0.1"), request("X-Forwarded-For: 10.0.0.1, 127.0.0.1")).address());
        assertEquals(ip("127.0.0.1"), PROXIES.client(ip("127.0.0.1"), request()).address());
        assertEquals(ip("127.0.0.1"), PROXIES.client(ip("127.0.0.1"), request("X-Forwarded-For: unknown")).address(),
                "a hop that is not an address ends the walk: the proxy itself is the client");
        assertEquals(ip("127.0.0.1"), PROXIES.client(ip("127.0.0.1"), request("X-Forwarded-For: 203.0.113.9, garbage")).address());
    }

    @Test
    void forwardedHeaderOfRfc7239WinsAndIsParsedWithQuotesAndPorts() throws UnknownHostException {
        TrustedProxies.Client client = PROXIES.client(ip("127.0.0.1"), request(
                "X-Forwarded-For: 198.51.100.1",
                "Forwarded: for=192.0.2.43, for=\"[2001:db8:cafe::17]:4711\";proto=HTTPS;host=\"ops.example:8443\"",
                "Forwarded: for=10.0.0.2;by=10.0.0.3"));
        assertEquals(ip("2001:db8:cafe::17"), client.address());
        assertEquals("https", client.scheme());
        assertEquals("ops.example:8443", client.host());
        assertEquals(ip("192.0.2.43"), PROXIES.client(ip("127.0.0.1"), request("Forwarded: For=\"192.0.2.43:80\"")).address());
        assertEquals(ip("127.0.0.1"), PROXIES.client(ip("127.0.0.1"), request("Forwarded: for=_hidden")).address());
    }

    @Test
    void aForwardedHostThatCouldForgeALogLineOrHeaderIsDropped() throws UnknownHostException {
        assertNull(PROXIES.client(ip("127.0.0.1"), request("X-Forwarded-For: 203.0.113.9", "X-Forwarded-Host: evil\u0001x")).host());
        assertNull(PROXIES.client(ip("127.0.0.1"), request("X-Forwarded-For: 203.0.113.9", "X-Forwarded-Proto: gopher")).scheme());
    }
}
