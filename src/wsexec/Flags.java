package wsexec;

import java.util.List;

/** Walks flags and their values; remembers what is left after "--" or the first non-flag. */
final class Flags {
    private final List<String> args;
    private int i;
    private String pendingValue;

    Flags(List<String> args) {
        this.args = args;
    }

    /** The next flag name, or null at the end of flags. */
    String next() {
        if (i >= args.size()) {
            return null;
        }
        String arg = args.get(i);
        if (arg.equals("--")) {
            i++;
            return null;
        }
        if (!arg.startsWith("--")) {
            return null;
        }
        i++;
        int eq = arg.indexOf('=');
        if (eq > 0) {
            pendingValue = arg.substring(eq + 1);
            return arg.substring(0, eq);
        }
        pendingValue = null;
        return arg;
    }

    String value(String flag) throws CommandLine.UsageException {
        if (pendingValue != null) {
            String v = pendingValue;
            pendingValue = null;
            return v;
        }
        if (i >= args.size()) {
            throw new CommandLine.UsageException(flag + " needs a value");
        }
        return args.get(i++);
    }

    /** A value that may be left out: {@code --flag=v}, or the next argument if it matches {@code pattern}. */
    String optionalValue(String pattern) {
        if (pendingValue != null) {
            String v = pendingValue;
            pendingValue = null;
            return v;
        }
        if (i < args.size() && args.get(i).matches(pattern)) {
            return args.get(i++);
        }
        return null;
    }

    /** For a flag without a value: checks that none was given ({@code --flag=x}) and says it is there. */
    boolean present(String flag) throws CommandLine.UsageException {
        noValue(flag);
        return true;
    }

    void noValue(String flag) throws CommandLine.UsageException {
        if (pendingValue != null) {
            throw new CommandLine.UsageException(flag + " takes no value");
        }
    }

    List<String> remaining() {
        return args.subList(i, args.size());
    }
}
