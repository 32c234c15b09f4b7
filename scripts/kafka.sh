#!/usr/bin/env bash
# scripts/kafka.sh — a local single-node Apache Kafka broker (KRaft mode, no
# ZooKeeper, no Docker) for Re:Use Chat development, tests and CI.
#
# This script owns:
#   * the broker jars, resolved from Maven Central with `mvn` and cached in
#     ${KAFKA_HOME_CACHE:-$HOME/.cache/reuse-chat/kafka-$VERSION}/libs
#     (a second run needs no network at all);
#   * the broker's data directory ${KAFKA_DATA_DIR:-/tmp/reuse-chat-kafka}:
#     server.properties, log4j.properties, cluster.id, kafka.pid, kafka.log
#     (previous run: kafka.log.prev), .lock and the partition/metadata logs
#     under data/. Delete the directory for a blank cluster.
#
# Usage: scripts/kafka.sh start|stop|status|restart|fetch
#   start    fetch jars if needed, format storage once, launch the broker in the
#            background and wait until it answers metadata requests
#            (idempotent: exits 0 if a broker already answers)
#   stop     SIGTERM, then SIGKILL after $KAFKA_STOP_TIMEOUT seconds
#   status   exit 0 if the broker answers, 1 otherwise
#   restart  stop + start
#   fetch    only resolve the jars into the cache
#
# Environment (defaults):
#   KAFKA_VERSION          3.9.1 (when unset, falls back to 3.9.0, 3.8.1)
#   KAFKA_HOME_CACHE       $HOME/.cache/reuse-chat/kafka-$KAFKA_VERSION
#   KAFKA_DATA_DIR         /tmp/reuse-chat-kafka
#   KAFKA_HOST             127.0.0.1 (listener and advertised host)
#   KAFKA_PORT             9092      (PLAINTEXT listener, for clients)
#   KAFKA_CONTROLLER_PORT  9093      (KRaft controller listener)
#   KAFKA_HEAP_OPTS        -Xms256m -Xmx512m
#   KAFKA_JVM_OPTS         extra JVM options for the broker
#   KAFKA_LOG_LEVEL        INFO
#   KAFKA_EXTRA_PROPERTIES extra server.properties lines (key=value, newline separated)
#   KAFKA_START_TIMEOUT    90 (seconds)
#   KAFKA_STOP_TIMEOUT     30 (seconds)
#   KAFKA_MVN_ARGS         extra arguments for mvn (e.g. -Dmaven.repo.local=...)
#   JAVA                   java binary ($JAVA_HOME/bin/java or java on PATH)
#
# Clients connect to ${KAFKA_HOST}:${KAFKA_PORT}, e.g. kafkajs
#   new Kafka({ brokers: ['127.0.0.1:9092'] })
set -euo pipefail

readonly DEFAULT_VERSIONS=(3.9.1 3.9.0 3.8.1)
readonly MVN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.6.1"

KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-/tmp/reuse-chat-kafka}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:-}"
KAFKA_LOG_LEVEL="${KAFKA_LOG_LEVEL:-INFO}"
KAFKA_EXTRA_PROPERTIES="${KAFKA_EXTRA_PROPERTIES:-}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_MVN_ARGS="${KAFKA_MVN_ARGS:-}"

readonly PID_FILE="${KAFKA_DATA_DIR}/kafka.pid"
readonly LOG_FILE="${KAFKA_DATA_DIR}/kafka.log"
readonly PROPS_FILE="${KAFKA_DATA_DIR}/server.properties"
readonly LOG4J_FILE="${KAFKA_DATA_DIR}/log4j.properties"
readonly CLUSTER_ID_FILE="${KAFKA_DATA_DIR}/cluster.id"
readonly LOG_DIRS="${KAFKA_DATA_DIR}/data"
# Marker put on the broker's command line so we only ever signal our own JVM.
readonly PID_MARKER="-Dreuse.chat.kafka.data=${KAFKA_DATA_DIR}"

# Set by select_jars / use_cache.
VERSION=""
CACHE_DIR=""
LIBS_DIR=""
TOOL_CMD=()

say() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }

SERVICE_HOST="$KAFKA_HOST" SERVICE_PORT="$KAFKA_PORT" SERVICE_DATA_DIR="$KAFKA_DATA_DIR"
SERVICE_STOP_TIMEOUT="$KAFKA_STOP_TIMEOUT"
# shellcheck source=scripts/lib/local-service.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/local-service.sh"

usage() {
  sed -n '2,/^set -euo pipefail$/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

# ---------------------------------------------------------------- jars ----

candidate_versions() {
  if [[ -n "${KAFKA_VERSION:-}" ]]; then
    printf '%s\n' "$KAFKA_VERSION"
  else
    printf '%s\n' "${DEFAULT_VERSIONS[@]}"
  fi
}

cache_dir_for() {
  printf '%s\n' "${KAFKA_HOME_CACHE:-$HOME/.cache/reuse-chat/kafka-$1}"
}

# cache_complete DIR VERSION: the jars for VERSION are all in DIR/libs.
cache_complete() {
  [[ -f "$1/.complete" && "$(cat "$1/.complete")" == "$2" && -f "$1/libs/kafka_2.13-$2.jar" ]]
}

use_cache() {
  VERSION="$1"
  CACHE_DIR="$2"
  LIBS_DIR="$2/libs"
  # JVM command for Kafka's command-line tool classes (small, quick-starting).
  TOOL_CMD=("$JAVA" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
    "-Dlog4j.configuration=file:${CACHE_DIR}/tools-log4j.properties" -cp "${LIBS_DIR}/*")
  if [[ ! -f "$CACHE_DIR/tools-log4j.properties" ]]; then
    cat >"$CACHE_DIR/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
  fi
}

# find_cached: select an already complete cache without touching the network.
find_cached() {
  local v dir
  while read -r v; do
    dir="$(cache_dir_for "$v")"
    if cache_complete "$dir" "$v"; then
      use_cache "$v" "$dir"
      return 0
    fi
  done < <(candidate_versions)
  return 1
}

write_pom() {
  local version="$1" dir="$2"
  cat >"$dir/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/kafka.sh: the runtime classpath of a Kafka ${version} broker. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>reuse-chat.local</groupId>
  <artifactId>kafka-broker-runtime</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- the broker itself (kafka.Kafka, kafka.tools.StorageTool, kafka.admin.BrokerApiVersionsCommand) -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${version}</version>
    </dependency>
    <!-- logging: Kafka 3.x ships log4j 1.x via reload4j; the kafka_2.13 pom does
         not declare it, but the broker uses it (Log4jController) and slf4j needs a binding -->
    <dependency>
      <groupId>ch.qos.reload4j</groupId>
      <artifactId>reload4j</artifactId>
      <version>1.2.25</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
EOF
}

# fetch_version VERSION: resolve the jars of VERSION into its cache dir.
fetch_version() {
  local version="$1" dir tmp mvn_args=()
  dir="$(cache_dir_for "$version")"
  mkdir -p "$dir"
  write_pom "$version" "$dir"
  tmp="$dir/libs.tmp"
  rm -rf "$tmp" "$dir/.complete"
  if [[ -n "$KAFKA_MVN_ARGS" ]]; then
    read -r -a mvn_args <<<"$KAFKA_MVN_ARGS"
  fi
  say "fetching Kafka ${version} jars from Maven Central into ${dir}/libs"
  if ! mvn -q -B -Dstyle.color=never "${mvn_args[@]}" -f "$dir/pom.xml" \
      "${MVN_DEPENDENCY_PLUGIN}:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$dir/fetch.log" 2>&1; then
    tail -n 15 "$dir/fetch.log" >&2 || true
    rm -rf "$tmp"
    return 1
  fi
  if [[ ! -f "$tmp/kafka_2.13-$version.jar" ]]; then
    printf 'kafka: kafka_2.13-%s.jar missing after mvn\n' "$version" >&2
    return 1
  fi
  rm -rf "$dir/libs"
  mv "$tmp" "$dir/libs"
  printf '%s\n' "$version" >"$dir/.complete"
  use_cache "$version" "$dir"
}

select_jars() {
  if find_cached; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (needed once to fetch the Kafka jars)"
  local v
  while read -r v; do
    if fetch_version "$v"; then
      return 0
    fi
    say "Kafka ${v} did not resolve"
  done < <(candidate_versions)
  die "could not fetch Kafka jars (tried: $(candidate_versions | paste -sd ' '))"
}

# ------------------------------------------------------------- process ----

# kafka_answers: the port is open and the broker answers metadata and
# ApiVersions requests (kafka.admin.BrokerApiVersionsCommand, which looks the
# broker up through a Metadata request first). Prints the cluster id if known.
kafka_answers() {
  local out
  tcp_open "$KAFKA_PORT" || return 1
  if [[ ${#TOOL_CMD[@]} -eq 0 ]]; then
    find_cached || return 0 # no jars to ask with: an open port is all we can tell
  fi
  out="$(timeout 20 "${TOOL_CMD[@]}" kafka.admin.BrokerApiVersionsCommand \
    --bootstrap-server "${KAFKA_HOST}:${KAFKA_PORT}" 2>/dev/null)" || return 1
  [[ "$out" == *"(id: "*"Metadata("* ]] || return 1
  if [[ -s "$CLUSTER_ID_FILE" ]]; then
    cat "$CLUSTER_ID_FILE"
  fi
}

# wait_ready PID START_SECONDS
wait_ready() {
  local pid="$1" started="$2" deadline cluster
  deadline=$((started + KAFKA_START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      log_tail
      die "broker process $pid exited during startup"
    fi
    if cluster="$(kafka_answers)"; then
      say "started on ${KAFKA_HOST}:${KAFKA_PORT} (pid ${pid}, Kafka ${VERSION}, cluster ${cluster}, $((SECONDS - started))s)"
      return 0
    fi
    sleep 1
  done
  log_tail
  say "broker (pid ${pid}) did not answer within ${KAFKA_START_TIMEOUT}s; stopping it"
  stop_pid "$pid" >&2
  die "broker did not answer on ${KAFKA_HOST}:${KAFKA_PORT} within ${KAFKA_START_TIMEOUT}s (log: ${LOG_FILE})"
}

write_configs() {
  cat >"$PROPS_FILE" <<EOF
# Generated by scripts/kafka.sh on every start; edits here are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${KAFKA_HOST}:${KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://${KAFKA_HOST}:${KAFKA_PORT},CONTROLLER://${KAFKA_HOST}:${KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${KAFKA_HOST}:${KAFKA_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${LOG_DIRS}
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
num.network.threads=2
num.io.threads=4
log.retention.hours=24
EOF
  if [[ -n "$KAFKA_EXTRA_PROPERTIES" ]]; then
    printf '# KAFKA_EXTRA_PROPERTIES\n%s\n' "$KAFKA_EXTRA_PROPERTIES" >>"$PROPS_FILE"
  fi
  cat >"$LOG4J_FILE" <<EOF
log4j.rootLogger=${KAFKA_LOG_LEVEL}, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF
}

format_storage() {
  local cluster_id
  if [[ -f "${LOG_DIRS}/meta.properties" ]]; then
    return 0
  fi
  if [[ -s "$CLUSTER_ID_FILE" ]]; then
    cluster_id="$(<"$CLUSTER_ID_FILE")"
  else
    cluster_id="$("${TOOL_CMD[@]}" kafka.tools.StorageTool random-uuid)"
    printf '%s\n' "$cluster_id" >"$CLUSTER_ID_FILE"
  fi
  say "formatting ${LOG_DIRS} (cluster id ${cluster_id})"
  "${TOOL_CMD[@]}" kafka.tools.StorageTool format --ignore-formatted \
    -t "$cluster_id" -c "$PROPS_FILE" >>"$LOG_FILE" 2>&1 \
    || { log_tail; die "storage format failed"; }
}

cmd_fetch() {
  local started=$SECONDS
  select_jars
  say "Kafka ${VERSION}: $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars in ${LIBS_DIR} ($((SECONDS - started))s)"
}

cmd_start() {
  local started=$SECONDS pid cluster heap=() extra=()
  select_jars
  if pid="$(our_pid)"; then
    if cluster="$(kafka_answers)"; then
      say "already running on ${KAFKA_HOST}:${KAFKA_PORT} (pid ${pid}, cluster ${cluster})"
      return 0
    fi
    say "pid ${pid} is still starting; waiting for it"
    wait_ready "$pid" "$started"
    return 0
  fi
  if cluster="$(kafka_answers)"; then
    say "already answering on ${KAFKA_HOST}:${KAFKA_PORT} (cluster ${cluster}; not started by this script)"
    return 0
  fi
  if tcp_open "$KAFKA_PORT"; then
    die "port ${KAFKA_HOST}:${KAFKA_PORT} is in use by something that is not answering as Kafka"
  fi
  if tcp_open "$KAFKA_CONTROLLER_PORT"; then
    die "controller port ${KAFKA_HOST}:${KAFKA_CONTROLLER_PORT} is in use"
  fi

  mkdir -p "$KAFKA_DATA_DIR" "$LOG_DIRS"
  if [[ -f "$LOG_FILE" ]]; then
    mv -f "$LOG_FILE" "${LOG_FILE}.prev"
  fi
  write_configs
  format_storage

  read -r -a heap <<<"$KAFKA_HEAP_OPTS"
  if [[ -n "$KAFKA_JVM_OPTS" ]]; then
    read -r -a extra <<<"$KAFKA_JVM_OPTS"
  fi
  rm -f "$PID_FILE"
  # setsid: own session, no controlling terminal; the inner shell records its
  # own pid and then execs the JVM, so the pid file names the broker itself.
  # shellcheck disable=SC2016 # $0/$$/$@ expand in the inner shell
  nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    "$JAVA" "${heap[@]}" \
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    "-Dkafka.logs.dir=${KAFKA_DATA_DIR}" "-Dlog4j.configuration=file:${LOG4J_FILE}" \
    "${extra[@]}" "$PID_MARKER" \
    -cp "${LIBS_DIR}/*" kafka.Kafka "$PROPS_FILE" \
    >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s "$PID_FILE" ]] && break
    sleep 0.1
  done
  pid="$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || { log_tail; die "broker did not start (no pid file)"; }
  wait_ready "$pid" "$started"
}

cmd_status() {
  local pid cluster
  pid="$(our_pid || true)"
  if cluster="$(kafka_answers)"; then
    say "running on ${KAFKA_HOST}:${KAFKA_PORT} (pid ${pid:-unknown}, cluster ${cluster:-unknown})"
    return 0
  fi
  if [[ -n "$pid" ]]; then
    say "pid ${pid} is alive but not answering on ${KAFKA_HOST}:${KAFKA_PORT}"
  elif tcp_open "$KAFKA_PORT"; then
    say "not running (${KAFKA_HOST}:${KAFKA_PORT} is open but does not answer as Kafka)"
  else
    say "not running"
  fi
  return 1
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
    start | stop | restart) lock ;;
  esac
  case "$cmd" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    restart) cmd_stop && cmd_start ;;
    fetch) cmd_fetch ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
