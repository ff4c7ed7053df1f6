package wsexec;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import wsexec.client.RunOptions;

/** The client subcommands' command lines: {@code run}, {@code attach}, {@code jobs}. */
final class ClientCommandLine {
    private ClientCommandLine() {
    }

    static CommandLine.Command parseRun(List<String> args) throws CommandLine.UsageException {
        URI url = URI.create("ws://127.0.0.1:8023/");
        List<URI> urls = new ArrayList<>();
        String on = null;
        boolean noPrefix = false;
        int maxParallel = RunOptions.Multi.DEFAULT_MAX_PARALLEL;
        boolean json = false;
        boolean pty = false;
        String cwd = null;
        Map<String, String> env = new LinkedHashMap<>();
        Duration connectTimeout = Duration.ofSeconds(10);
        String token = null;
        Path tokenFile = null;
        Path cacert = null;
        Duration killAfter = Duration.ofSeconds(3);
        Duration keep = null;
        boolean detach = false;
        Flags flags = new Flags(args);
        for (String flag = flags.next(); flag != null; flag = flags.next()) {
            switch (flag) {
                case "--help" -> {
                    return new CommandLine.SubcommandHelp(Usage.section("run"));
                }
                case "--url" -> {
                    url = Values.wsUrl(flags.value(flag));
                    urls.add(url);
                }
                case "--on" -> on = flags.value(flag);
                case "--no-prefix" -> noPrefix = flags.present(flag);
                case "--max-parallel" -> maxParallel = Values.positive(flag, flags.value(flag));
                case "--json" -> json = flags.present(flag);
                case "--pty" -> pty = flags.present(flag);
                case "--cwd" -> cwd = flags.value(flag);
                case "--env" -> {
                    String pair = flags.value(flag);
                    int eq = pair.indexOf('=');
                    if (eq <= 0) {
                        throw new CommandLine.UsageException("--env needs NAME=VALUE, got '" + pair + "'");
                    }
                    env.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
                case "--connect-timeout" -> connectTimeout = Values.duration(flag, flags.value(flag));
                case "--token" -> token = flags.value(flag);
                case "--token-file" -> tokenFile = Path.of(flags.value(flag));
                case "--cacert" -> cacert = Path.of(flags.value(flag));
                case "--kill-after" -> killAfter = Values.duration(flag, flags.value(flag));
                case "--keep" -> {
                    String time = flags.optionalValue("\\d+(ms|s|m|h|d)");
                    keep = time == null ? RunOptions.DEFAULT_KEEP : Values.duration(flag, time);
                }
                case "--detach" -> detach = flags.present(flag);
                default -> throw new CommandLine.UsageException("unknown option '" + flag + "' for run (try --help)");
            }
        }
        List<String> command = new ArrayList<>(flags.remaining());
        if (command.isEmpty()) {
            throw new CommandLine.UsageException("run needs a command, e.g. wsexec run -- date");
        }
        if (cacert != null && !url.getScheme().equalsIgnoreCase("wss")) {
            throw new CommandLine.UsageException("--cacert is for wss:// URLs, got " + url);
        }
        if (detach && keep == null) {
            keep = RunOptions.DEFAULT_KEEP;
        }
        RunOptions.Multi multi = null;
        if (on != null || urls.size() > 1) {
            List<String> hosts = on == null || on.equals("all") ? List.of() : List.of(on.split(","));
            if (hosts.stream().anyMatch(h -> !h.matches("[a-z0-9-]{1,32}"))) {
                throw new CommandLine.UsageException("--on takes instance names (a-z, 0-9, '-') separated by commas, or 'all'; got '" + on + "'");
            }
            if (on != null && urls.size() > 1) {
                throw new CommandLine.UsageException("give either --on NAMES with one --url (a gateway), or several --url without --on");
            }
            if (keep != null || detach || pty) {
                throw new CommandLine.UsageException("--on runs one job on each host and waits for them: not with --keep, --detach or --pty");
            }
            multi = new RunOptions.Multi(on == null ? null : on.equals("all") ? List.of() : hosts, List.copyOf(urls), noPrefix, maxParallel);
        } else if (noPrefix) {
            throw new CommandLine.UsageException("--no-prefix is for --on");
        }
        return new CommandLine.Run(new RunOptions(url, json, pty, cwd, Map.copyOf(env), connectTimeout, killAfter, List.copyOf(command), token, tokenFile,
                cacert, RunOptions.Mode.RUN, keep, detach, null, "start", false, multi));
    }

    /** {@code attach JOB}: the connection options of run, plus where to start and whether to watch only. */
    static CommandLine.Command parseAttach(List<String> args) throws CommandLine.UsageException {
        Connection c = new Connection();
        String from = "start";
        boolean readOnly = false;
        Flags flags = new Flags(args);
        for (String flag = flags.next(); flag != null; flag = flags.next()) {
            if (c.take(flag, flags)) {
                continue;
            }
            switch (flag) {
                case "--from" -> {
                    from = flags.value(flag);
                    if (!from.equals("start") && !from.equals("now")) {
                        throw new CommandLine.UsageException("--from is 'start' or 'now', got '" + from + "'");
                    }
                }
                case "--read-only" -> readOnly = flags.present(flag);
                default -> throw new CommandLine.UsageException("unknown option '" + flag + "' for attach (try --help)");
            }
        }
        List<String> rest = flags.remaining();
        if (rest.size() != 1) {
            throw new CommandLine.UsageException("attach needs one job id, e.g. wsexec attach Xq3…");
        }
        return new CommandLine.Run(c.options(RunOptions.Mode.ATTACH, rest.get(0), from, readOnly));
    }

    /** {@code jobs}: the connection options of run. */
    static CommandLine.Command parseJobs(List<String> args) throws CommandLine.UsageException {
        Connection c = new Connection();
        Flags flags = new Flags(args);
        for (String flag = flags.next(); flag != null; flag = flags.next()) {
            if (!c.take(flag, flags)) {
                throw new CommandLine.UsageException("unknown option '" + flag + "' for jobs (try --help)");
            }
        }
        if (!flags.remaining().isEmpty()) {
            throw new CommandLine.UsageException("unexpected argument '" + flags.remaining().get(0) + "' for jobs");
        }
        return new CommandLine.Run(c.options(RunOptions.Mode.JOBS, null, "start", false));
    }

    /** The options every client subcommand shares: where the server is and how to get in. */
    static final class Connection {
        URI url = URI.create("ws://127.0.0.1:8023/");
        boolean json;
        Duration connectTimeout = Duration.ofSeconds(10);
        String token;
        Path tokenFile;
        Path cacert;

        boolean take(String flag, Flags flags) throws CommandLine.UsageException {
            switch (flag) {
                case "--url" -> url = Values.wsUrl(flags.value(flag));
                case "--json" -> json = flags.present(flag);
                case "--connect-timeout" -> connectTimeout = Values.duration(flag, flags.value(flag));
                case "--token" -> token = flags.value(flag);
                case "--token-file" -> tokenFile = Path.of(flags.value(flag));
                case "--cacert" -> cacert = Path.of(flags.value(flag));
                default -> {
                    return false;
                }
            }
            return true;
        }

        RunOptions options(RunOptions.Mode mode, String job, String from, boolean readOnly) throws CommandLine.UsageException {
            if (cacert != null && !url.getScheme().equalsIgnoreCase("wss")) {
                throw new CommandLine.UsageException("--cacert is for wss:// URLs, got " + url);
            }
            return new RunOptions(url, json, false, null, Map.of(), connectTimeout, Duration.ofSeconds(3), List.of(), token, tokenFile,
                    cacert, mode, mode == RunOptions.Mode.ATTACH ? RunOptions.DEFAULT_KEEP : null, false, job, from, readOnly, null);
        }
    }
}
