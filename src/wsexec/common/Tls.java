package wsexec.common;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Arrays;

import java.security.SecureRandom;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * The JDK's own TLS, set up the two ways wsexec needs it: a server identity from a PKCS#12
 * keystore ({@code serve --tls-keystore}), and a client that trusts the JDK's certificate
 * authorities or exactly one given certificate ({@code run --cacert}). TLS 1.2 and 1.3 only;
 * there is no way to turn certificate checks off.
 */
public final class Tls {
    /** The protocol versions spoken, newest first. */
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private Tls() {
    }

    /** A server context from a PKCS#12 keystore whose password is the first line of a file. */
    public static SSLContext server(Path keystore, Path passwordFile) throws IOException, GeneralSecurityException {
        String firstLine = Files.readString(passwordFile, StandardCharsets.UTF_8).lines().findFirst().orElse("");
        char[] password = firstLine.toCharArray();
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keystore)) {
                store.load(in, password);
            }
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return context;
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    /** A client context that trusts only the certificate(s) in a PEM or DER file. */
    public static SSLContext trusting(Path certificateFile) throws IOException, GeneralSecurityException {
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        try (InputStream in = Files.newInputStream(certificateFile)) {
            int i = 0;
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trusted.setCertificateEntry("cacert-" + i++, certificate);
            }
            if (i == 0) {
                throw new GeneralSecurityException("no certificate in " + certificateFile);
            }
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    /** Parameters that allow only {@link #PROTOCOLS}. */
    public static SSLParameters parameters(SSLContext context) {
        SSLParameters parameters = context.getDefaultSSLParameters();
        parameters.setProtocols(PROTOCOLS);
        return parameters;
    }

    /**
     * A context for a client that never speaks TLS ({@code run} with a {@code ws://} URL).
     * {@code HttpClient} sets up the JDK's default context when given none, which loads and parses
     * every certificate authority the JDK trusts: the largest part of a client's start. This one
     * costs nothing and refuses every use, so a TLS connection cannot silently go unchecked.
     */
    public static SSLContext none() {
        return new SSLContext(new Unusable(), null, "none") {
        };
    }

    /** Hand it {@link #none()}'s context with these: asking that context for its own would fail. */
    public static SSLParameters noneParameters() {
        SSLParameters parameters = new SSLParameters();
        parameters.setProtocols(PROTOCOLS);
        return parameters;
    }

    private static final class Unusable extends SSLContextSpi {
        private static IllegalStateException refused() {
            return new IllegalStateException("TLS is not set up for this client (a ws:// URL)");
        }

        @Override
        protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom sr) {
            throw refused();
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            throw refused();
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            throw refused();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            throw refused();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            throw refused();
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            throw refused();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            throw refused();
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            throw refused();
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            throw refused();
        }
    }
}
