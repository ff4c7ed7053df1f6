package wsexec.common;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The server's secret: made, written where the local client finds it, and read back.
 *
 * <p>A generated token is 32 bytes from {@link SecureRandom} (256 bits) in base64url, so it can
 * stand in a URL as it is. The token of the server on port P is written to
 * {@code $XDG_RUNTIME_DIR/wsexec/P.token}, or {@code ~/.wsexec/P.token} where there is no
 * runtime directory: a directory of mode 0700 and a file created with mode 0600 (never wider,
 * not even for a moment), removed when the server stops.
 */
public final class AccessToken {
    /** Bytes of randomness in a generated token. */
    static final int RANDOM_BYTES = 32;
    /** A token given in a file must be at least this long. */
    static final int MIN_LENGTH = 16;
    private static final Pattern ALLOWED = Pattern.compile("[A-Za-z0-9._~+/=-]{" + MIN_LENGTH + ",1024}");

    private AccessToken() {
    }

    public static String generate(SecureRandom random) {
        byte[] bytes = new byte[RANDOM_BYTES];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** The token in a file (surrounding white space ignored). */
    public static String read(Path file) throws IOException {
        String token = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (!ALLOWED.matcher(token).matches()) {
            throw new IOException(file + " must hold one token of " + MIN_LENGTH
                    + "–1024 characters from A–Z a–z 0–9 . _ ~ + / = -");
        }
        return token;
    }

    /** The token as it goes into a URL's query. */
    public static String urlEncoded(String token) {
        return URLEncoder.encode(token, StandardCharsets.UTF_8);
    }

    /** The directory for token files, from the environment given (normally {@link System#getenv()}). */
    static Path directory(Map<String, String> environment) {
        String runtime = environment.get("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isEmpty() && Files.isDirectory(Path.of(runtime))) {
            return Path.of(runtime, "wsexec");
        }
        String home = environment.getOrDefault("HOME", System.getProperty("user.home"));
        return Path.of(home, ".wsexec");
    }

    public static Path fileFor(Map<String, String> environment, int port) {
        return directory(environment).resolve(port + ".token");
    }

    /**
     * Writes the token of the server on {@code port}, readable by this user only. A file left
     * there by a server that died is replaced: we hold the port, so that server is gone.
     */
    public static Path write(Map<String, String> environment, int port, String token) throws IOException {
        Path directory = directory(environment);
        Set<PosixFilePermission> owner = PosixFilePermissions.fromString("rwx------");
        if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(owner));
        }
        Set<PosixFilePermission> actual = Files.getPosixFilePermissions(directory, LinkOption.NOFOLLOW_LINKS);
        if (actual.contains(PosixFilePermission.GROUP_WRITE) || actual.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException(directory + " is writable by others; refusing to keep a token there");
        }
        Path file = directory.resolve(port + ".token");
        Files.deleteIfExists(file);
        try (SeekableByteChannel channel = Files.newByteChannel(file,
                EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            channel.write(java.nio.ByteBuffer.wrap((token + "\n").getBytes(StandardCharsets.UTF_8)));
        } catch (FileAlreadyExistsException e) {
            throw new IOException(file + " appeared while it was being written; another process is racing us", e);
        }
        return file;
    }
}
