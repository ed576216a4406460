# Sourced by bin/gram and bin/gram-spark: run_jvm JAVA ARGS... runs the JVM with the Vector API
# module and returns (exits with) its status.
#
# The JDK's Vector API runs gram4j's host loops in SIMD lanes (README, Performance); with
# --add-modules jdk.incubator.vector the JVM announces the incubator module on stderr at every
# start, and run_jvm drops exactly that line. To filter stderr *synchronously* (every other line
# is written before this script exits, also when stderr is a file) the JVM runs as a child, not
# through exec: its stderr goes through a FIFO to grep, and TERM, INT, HUP and QUIT sent to this
# script are passed on to the JVM (job control gives the child its own process group, so that it
# keeps its default signal handlers instead of ignoring INT and QUIT as background jobs do).
run_jvm() {
    local java="$1"
    shift
    local dir fifo pid filter status=0 sig
    if ! dir="$(mktemp -d "${TMPDIR:-/tmp}/gram-stderr.XXXXXX" 2>/dev/null)" || ! mkfifo "$dir/stderr" 2>/dev/null; then
        # no writable temporary directory: run the JVM directly, its warning unfiltered
        [ -n "${dir:-}" ] && rm -rf "$dir"
        exec "$java" --add-modules jdk.incubator.vector "$@" <&3 3<&-
    fi
    fifo="$dir/stderr"
    # shellcheck disable=SC2064
    trap "rm -rf '$dir'" EXIT
    grep --line-buffered -v '^WARNING: Using incubator modules: jdk\.incubator\.vector$' <"$fifo" >&2 &
    filter=$!
    set -m
    "$java" --add-modules jdk.incubator.vector "$@" <&3 2>"$fifo" 3<&- &
    pid=$!
    set +m
    for sig in TERM INT HUP QUIT; do
        # shellcheck disable=SC2064
        trap "kill -$sig $pid 2>/dev/null" "$sig"
    done
    while true; do
        # (callers run under set -e: a non-zero status must not end the script before the filter drains)
        status=0
        wait "$pid" || status=$?
        kill -0 "$pid" 2>/dev/null || break
    done
    wait "$filter" 2>/dev/null || true
    rm -rf "$dir"
    return "$status"
}
