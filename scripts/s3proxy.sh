#!/usr/bin/env bash
# scripts/s3proxy.sh — a local S3-compatible object store (S3Proxy with its
# filesystem backend, no Docker) for Re:Use Chat development, tests and CI.
#
# This script owns:
#   * the S3Proxy jar (org.gaul:s3proxy:$VERSION, classifier jar-with-dependencies),
#     resolved from Maven Central with `mvn` and cached in
#     ${S3PROXY_HOME_CACHE:-$HOME/.cache/reuse-chat/s3proxy-$VERSION}
#     (a second run needs no network at all);
#   * its data directory ${S3PROXY_DATA_DIR:-/tmp/reuse-chat-s3proxy}:
#     s3proxy.conf, s3proxy.pid, s3proxy.log, .lock and the buckets under blobs/.
#     Delete the directory for a blank store.
#
# Usage: scripts/s3proxy.sh start|stop|status|restart|fetch
#   start    fetch the jar if needed, launch S3Proxy in the background and wait
#            until it answers S3 requests (idempotent: exits 0 if it already answers)
#   stop     SIGTERM, then SIGKILL after $S3PROXY_STOP_TIMEOUT seconds
#   status   exit 0 if it answers, 1 otherwise
#   restart  stop + start
#   fetch    only resolve the jar into the cache
#
# Environment (defaults):
#   S3PROXY_VERSION        2.6.0
#   S3PROXY_HOME_CACHE     $HOME/.cache/reuse-chat/s3proxy-$S3PROXY_VERSION
#   S3PROXY_DATA_DIR       /tmp/reuse-chat-s3proxy
#   S3PROXY_HOST           127.0.0.1
#   S3PROXY_PORT           9000
#   S3PROXY_ACCESS_KEY     reuse-chat-local      (fixed local credentials, for tests only)
#   S3PROXY_SECRET_KEY     reuse-chat-local-secret
#   S3PROXY_HEAP_OPTS      -Xms64m -Xmx256m
#   S3PROXY_START_TIMEOUT  60 (seconds)
#   S3PROXY_STOP_TIMEOUT   20 (seconds)
#   S3PROXY_MVN_ARGS       extra arguments for mvn (e.g. -Dmaven.repo.local=...)
#   JAVA                   java binary ($JAVA_HOME/bin/java or java on PATH; 17+)
#
# Clients use endpoint http://${S3PROXY_HOST}:${S3PROXY_PORT}, path-style
# addressing, any region, and the access/secret key above.
set -euo pipefail

readonly MVN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.6.1"

S3PROXY_VERSION="${S3PROXY_VERSION:-2.6.0}"
S3PROXY_HOME_CACHE="${S3PROXY_HOME_CACHE:-$HOME/.cache/reuse-chat/s3proxy-$S3PROXY_VERSION}"
S3PROXY_DATA_DIR="${S3PROXY_DATA_DIR:-/tmp/reuse-chat-s3proxy}"
S3PROXY_HOST="${S3PROXY_HOST:-127.0.0.1}"
S3PROXY_PORT="${S3PROXY_PORT:-9000}"
S3PROXY_ACCESS_KEY="${S3PROXY_ACCESS_KEY:-reuse-chat-local}"
S3PROXY_SECRET_KEY="${S3PROXY_SECRET_KEY:-reuse-chat-local-secret}"
S3PROXY_HEAP_OPTS="${S3PROXY_HEAP_OPTS:--Xms64m -Xmx256m}"
S3PROXY_START_TIMEOUT="${S3PROXY_START_TIMEOUT:-60}"
S3PROXY_STOP_TIMEOUT="${S3PROXY_STOP_TIMEOUT:-20}"
S3PROXY_MVN_ARGS="${S3PROXY_MVN_ARGS:-}"

readonly JAR="${S3PROXY_HOME_CACHE}/s3proxy-${S3PROXY_VERSION}-jar-with-dependencies.jar"
readonly PID_FILE="${S3PROXY_DATA_DIR}/s3proxy.pid"
readonly LOG_FILE="${S3PROXY_DATA_DIR}/s3proxy.log"
readonly CONF_FILE="${S3PROXY_DATA_DIR}/s3proxy.conf"
readonly BLOB_DIR="${S3PROXY_DATA_DIR}/blobs"
# Marker put on the JVM's command line so we only ever signal our own process.
readonly PID_MARKER="-Dreuse.chat.s3proxy.data=${S3PROXY_DATA_DIR}"

say() { printf 's3proxy: %s\n' "$*"; }
die() { printf 's3proxy: error: %s\n' "$*" >&2; exit 1; }

SERVICE_HOST="$S3PROXY_HOST" SERVICE_PORT="$S3PROXY_PORT" SERVICE_DATA_DIR="$S3PROXY_DATA_DIR"
SERVICE_STOP_TIMEOUT="$S3PROXY_STOP_TIMEOUT"
# shellcheck source=scripts/lib/local-service.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/local-service.sh"

usage() {
  sed -n '2,/^set -euo pipefail$/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

cmd_fetch() {
  if [[ -s "$JAR" ]]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (needed once to fetch the S3Proxy jar)"
  local mvn_args=() tmp="${S3PROXY_HOME_CACHE}/jar.tmp"
  if [[ -n "$S3PROXY_MVN_ARGS" ]]; then
    read -r -a mvn_args <<<"$S3PROXY_MVN_ARGS"
  fi
  mkdir -p "$S3PROXY_HOME_CACHE"
  rm -rf "$tmp"
  say "fetching org.gaul:s3proxy:${S3PROXY_VERSION} (jar-with-dependencies) from Maven Central into ${S3PROXY_HOME_CACHE}"
  if ! mvn -q -B -Dstyle.color=never "${mvn_args[@]}" "${MVN_DEPENDENCY_PLUGIN}:copy" \
      "-Dartifact=org.gaul:s3proxy:${S3PROXY_VERSION}:jar:jar-with-dependencies" \
      -DoutputDirectory="$tmp" >"${S3PROXY_HOME_CACHE}/fetch.log" 2>&1; then
    tail -n 15 "${S3PROXY_HOME_CACHE}/fetch.log" >&2 || true
    rm -rf "$tmp"
    die "could not fetch the S3Proxy jar"
  fi
  mv "$tmp/$(basename "$JAR")" "$JAR" || die "$(basename "$JAR") missing after mvn"
  rm -rf "$tmp"
}

# s3_answers: S3Proxy answers an anonymous request with an S3 XML error
# document (AccessDenied / InvalidRequest), which tells it apart from any
# other HTTP server on the port.
s3_answers() {
  local body
  # plain bash (no curl needed): one HTTP/1.0 request, the server closes after answering
  # shellcheck disable=SC2016 # $0/$1 expand in the inner shell
  body="$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "GET / HTTP/1.0\r\nHost: %s:%s\r\n\r\n" "$0" "$1" >&3 && cat <&3' \
    "$S3PROXY_HOST" "$S3PROXY_PORT" 2>/dev/null)" || return 1
  [[ "$body" == *"<Error>"* || "$body" == *"ListAllMyBucketsResult"* ]]
}

write_config() {
  cat >"$CONF_FILE" <<EOF
# Generated by scripts/s3proxy.sh on every start; edits here are overwritten.
s3proxy.endpoint=http://${S3PROXY_HOST}:${S3PROXY_PORT}
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=${S3PROXY_ACCESS_KEY}
s3proxy.credential=${S3PROXY_SECRET_KEY}
jclouds.provider=filesystem
jclouds.filesystem.basedir=${BLOB_DIR}
EOF
}

cmd_start() {
  local started=$SECONDS pid heap=()
  cmd_fetch
  if pid="$(our_pid)" && s3_answers; then
    say "already running on ${S3PROXY_HOST}:${S3PROXY_PORT} (pid ${pid})"
    return 0
  fi
  if [[ -z "${pid:-}" ]] && s3_answers; then
    say "already answering on ${S3PROXY_HOST}:${S3PROXY_PORT} (not started by this script)"
    return 0
  fi
  if [[ -z "${pid:-}" ]]; then
    if tcp_open; then
      die "port ${S3PROXY_HOST}:${S3PROXY_PORT} is in use by something that is not answering as S3"
    fi
    mkdir -p "$S3PROXY_DATA_DIR" "$BLOB_DIR"
    if [[ -f "$LOG_FILE" ]]; then
      mv -f "$LOG_FILE" "${LOG_FILE}.prev"
    fi
    write_config
    read -r -a heap <<<"$S3PROXY_HEAP_OPTS"
    rm -f "$PID_FILE"
    # setsid: own session; the inner shell records its pid and execs the JVM,
    # so the pid file names S3Proxy itself. fd 9 (the lock) is not inherited.
    # shellcheck disable=SC2016 # $0/$$/$@ expand in the inner shell
    nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
      "$JAVA" "${heap[@]}" -XX:+UseSerialGC -Djava.awt.headless=true "$PID_MARKER" \
      -jar "$JAR" --properties "$CONF_FILE" \
      >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
    local i
    for ((i = 0; i < 100; i++)); do
      [[ -s "$PID_FILE" ]] && break
      sleep 0.1
    done
    pid="$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)"
    [[ -n "$pid" ]] || { log_tail; die "S3Proxy did not start (no pid file)"; }
  fi
  while ((SECONDS - started < S3PROXY_START_TIMEOUT)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      log_tail
      die "S3Proxy process $pid exited during startup"
    fi
    if s3_answers; then
      say "started on ${S3PROXY_HOST}:${S3PROXY_PORT} (pid ${pid}, S3Proxy ${S3PROXY_VERSION}, data ${BLOB_DIR}, $((SECONDS - started))s)"
      return 0
    fi
    sleep 0.5
  done
  log_tail
  stop_pid "$pid" >&2
  die "S3Proxy did not answer on ${S3PROXY_HOST}:${S3PROXY_PORT} within ${S3PROXY_START_TIMEOUT}s (log: ${LOG_FILE})"
}

cmd_status() {
  local pid
  pid="$(our_pid || true)"
  if s3_answers; then
    say "running on ${S3PROXY_HOST}:${S3PROXY_PORT} (pid ${pid:-unknown})"
    return 0
  fi
  if [[ -n "$pid" ]]; then
    say "pid ${pid} is alive but not answering on ${S3PROXY_HOST}:${S3PROXY_PORT}"
  else
    say "not running"
  fi
  return 1
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
    start | stop | restart | fetch) lock ;;
  esac
  case "$cmd" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    restart) cmd_stop && cmd_start ;;
    fetch) cmd_fetch && say "jar in ${JAR}" ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
