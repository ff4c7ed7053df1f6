import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.KeyStore;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/** The echo server over TLS (wss://): args are the port, a PKCS#12 keystore and its password. */
public class TlsEchoServer {
    public static void main(String[] args) throws Exception {
        char[] password = args[2].toCharArray();
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(KeyStore.getInstance(new File(args[1]), password), password);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(keys.getKeyManagers(), null, null);
        try (ServerSocket server = tls.getServerSocketFactory()
                .createServerSocket(Integer.parseInt(args[0]), 50, InetAddress.getLoopbackAddress())) {
            System.out.println("listening on wss://127.0.0.1:" + server.getLocalPort() + "/");
            while (true) {
                Socket socket = server.accept(); // an SSLSocket: the TLS handshake runs on its first read
                Thread.ofVirtual().start(() -> EchoServer.echo(socket));
            }
        }
    }
}
