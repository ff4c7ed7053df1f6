#!/usr/bin/env bash
# Compiles test/ against build/classes and the JUnit console launcher, runs every test,
# and ends with the line "N passed, N failed" taken from the launcher's summary.
set -uo pipefail
cd "$(dirname "$0")/.."
JUNIT_JAR=$1
JDK=$(./build.sh --print-jdk) || exit 1
rm -rf build/test-classes
mkdir -p build/test-classes
find test -name '*.java' > build/test-sources.txt
"$JDK/bin/javac" --release 21 -Werror -Xlint:all,-processing -encoding UTF-8 \
    -cp build/classes:"$JUNIT_JAR" -d build/test-classes @build/test-sources.txt || exit 1
(cd test && find . -type f ! -name '*.java' -exec cp --parents {} ../build/test-classes/ \;)

log=build/test-output.txt
# Test classes may be selected with TESTS='-c wsexec.server.SomeTest' (default: all of them).
# shellcheck disable=SC2086
"$JDK/bin/java" -jar "$JUNIT_JAR" execute --disable-banner --details=tree --disable-ansi-colors \
    -cp build/classes:build/test-classes ${TESTS:---scan-classpath build/test-classes} 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

count() { grep -E "^\[ *[0-9]+ tests $1 *\]" "$log" | grep -oE '[0-9]+' | head -1; }
passed=$(count successful); failed=$(count failed); skipped=$(count skipped); aborted=$(count aborted)
passed=${passed:-0}; failed=$(( ${failed:-0} + ${aborted:-0} )); skipped=${skipped:-0}
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # the launcher found nothing to run, or did not run at all
    status=1
fi
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
exit "$status"
