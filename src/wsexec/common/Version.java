package wsexec.common;

/** The version of this build, shown by {@code --version}, /healthz and the programs' environment. */
public final class Version {
    public static final String VERSION = "0.1.0";

    private Version() {
    }
}
