# shellcheck shell=bash
# Process bookkeeping shared by the scripts that run a local JVM service for development and
# tests (scripts/kafka.sh, scripts/s3proxy.sh). The sourcing script defines say() and sets:
#   SERVICE_HOST SERVICE_PORT   where the service listens
#   SERVICE_DATA_DIR            its data folder (holds the lock)
#   SERVICE_STOP_TIMEOUT        seconds between SIGTERM and SIGKILL
#   PID_FILE LOG_FILE           the pid file and the log of the process this script started
#   PID_MARKER                  a JVM argument that only our process carries, so a recycled pid
#                               or someone else's service on the port is never taken for ours

# the JVM: $JAVA, else $JAVA_HOME/bin/java, else java on the PATH
if [[ -z "${JAVA:-}" ]]; then
  if [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then
    JAVA="${JAVA_HOME}/bin/java"
  else
    JAVA=java
  fi
fi

# tcp_open [port]: something accepts TCP connections on SERVICE_HOST:port (default SERVICE_PORT)
tcp_open() {
  # shellcheck disable=SC2016 # $0/$1 expand in the inner shell
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$SERVICE_HOST" "${1:-$SERVICE_PORT}" 2>/dev/null
}

# our_pid: print the pid if the pid file names a live process carrying PID_MARKER; removes a
# stale pid file.
our_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
      && tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$PID_MARKER"; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$PID_FILE"
  return 1
}

log_tail() {
  if [[ -f "$LOG_FILE" ]]; then
    printf -- '--- last lines of %s ---\n' "$LOG_FILE" >&2
    tail -n 40 "$LOG_FILE" >&2
    printf -- '---\n' >&2
  fi
}

# stop_pid PID: SIGTERM, then SIGKILL after SERVICE_STOP_TIMEOUT seconds
stop_pid() {
  local pid="$1" started=$SECONDS
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((SECONDS - started < SERVICE_STOP_TIMEOUT)); do
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid ${pid} still alive after ${SERVICE_STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PID_FILE"
  say "stopped (pid ${pid}, $((SECONDS - started))s)"
}

# cmd_stop: stops only a process this script started; a service someone else runs is left alone
cmd_stop() {
  local pid
  if ! pid="$(our_pid)"; then
    if tcp_open; then
      say "not started by this script (no live pid in ${PID_FILE}), but ${SERVICE_HOST}:${SERVICE_PORT} is open; leaving it alone"
    else
      say "not running"
    fi
    return 0
  fi
  stop_pid "$pid"
}

# lock: one start/stop at a time per data folder (concurrent test runs share the service)
lock() {
  mkdir -p "$SERVICE_DATA_DIR"
  exec 9>"${SERVICE_DATA_DIR}/.lock"
  if command -v flock >/dev/null 2>&1; then
    flock 9
  fi
}
