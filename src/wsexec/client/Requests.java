package wsexec.client;

import java.util.List;

import wsexec.common.Json;

/** The requests the client sends to start or watch a job (docs/PROTOCOL.md), as JSON text. */
final class Requests {
    private Requests() {
    }

    /** {@code attach} of kept job {@code job} under {@code id}: from {@code "start"} or {@code "now"}, or (from null) from the bytes of each stream the client already has. */
    static String attach(RunOptions options, String id, String job, String from, long stdoutBytes, long stderrBytes) {
        Json.ObjectWriter request = Json.object().field("type", "attach").field("id", id).field("job", job);
        if (from != null) {
            request.field("from", from);
        } else {
            request.raw("from", Json.object().field("stdout", stdoutBytes).field("stderr", stderrBytes).toString());
        }
        request.field("readOnly", options.readOnly());
        request.field("binary", !options.json());
        return request.toString();
    }

    /** {@code exec} of the command line's command: one word through the shell, several as argv. */
    static String exec(RunOptions options, String id) {
        Json.ObjectWriter request = Json.object().field("type", "exec").field("id", id);
        if (options.keep() != null) {
            request.field("keep", options.keep().toSeconds() + "s");
        }
        List<String> command = options.command();
        if (command.size() == 1) {
            request.field("command", command.get(0));
        } else {
            StringBuilder argv = new StringBuilder("[");
            for (String word : command) {
                if (argv.length() > 1) {
                    argv.append(',');
                }
                Json.quote(argv, word);
            }
            request.raw("argv", argv.append(']').toString());
        }
        if (options.cwd() != null) {
            request.field("cwd", options.cwd());
        }
        if (!options.env().isEmpty()) {
            StringBuilder env = new StringBuilder("{");
            options.env().forEach((name, value) -> {
                if (env.length() > 1) {
                    env.append(',');
                }
                Json.quote(env, name).append(':');
                Json.quote(env, value);
            });
            request.raw("env", env.append('}').toString());
        }
        if (options.pty()) {
            request.field("pty", true);
        }
        if (!options.json()) {
            // Output as binary frames: raw bytes straight to our stdout and stderr, no JSON to parse.
            // --json shows the events themselves, so it keeps them as JSON.
            request.field("binary", true);
        }
        return request.toString();
    }
}
