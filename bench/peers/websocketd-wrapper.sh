#!/bin/sh
# websocketd starts this once per connection and sends each line of its stdout as one message.
# The client's first message is the command; after it, a marker line carries the exit code, and
# the wrapper waits for the client to close (websocketd then closes its stdin).
IFS= read -r cmd
sh -c "$cmd" </dev/null
echo "__wsbench_exit__ $?"
exec cat >/dev/null
