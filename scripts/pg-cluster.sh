#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite and the load benchmark.
#
#   bash scripts/pg-cluster.sh run -- COMMAND [ARGS...]
#       initdb into a fresh temporary directory, start the server on a free loopback port,
#       run COMMAND with DATABASE_URL pointing at it, then stop the server and delete the
#       directory, whatever COMMAND's outcome; exits with COMMAND's status.
#   bash scripts/pg-cluster.sh start DIR   (prints the DATABASE_URL; for interactive use)
#   bash scripts/pg-cluster.sh stop DIR
#   bash scripts/pg-cluster.sh restart DIR   (same port and settings, PostgreSQL's cache
#       empty: the benchmarks' "first minute after a restart")
#
# Uses Debian's `postgresql` package (scripts/install-components.sh installs it). initdb
# refuses to run as root, so as root the cluster belongs to the `postgres` system user the
# package creates. The cluster trusts loopback connections and runs with fsync off (unless
# PG_DURABLE=1): it holds nothing worth keeping and exists only as long as the command.
# PG_SHARED_BUFFERS (default PostgreSQL's own 128MB) sizes its cache; the 100,000-piece
# search benchmarks use 1GB (issue 18's bound; earlier rounds used 4GB). The server loads
# pg_prewarm (PostgreSQL's own contrib module, in Debian's package) when it is installed:
# its autoprewarm worker records which blocks the cache holds and reads them back in right
# after a start, as the README recommends for production. PG_AUTOPREWARM=0 starts without
# it (benchmarks/restart.py compares the two).
set -euo pipefail

DB_USER=dossier
DB_NAME=dossier

die() {
  echo "pg-cluster: $*" >&2
  exit 1
}

find_bindir() {
  local candidate
  # Newest installed major version first.
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -rn); do
    if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
      echo "$candidate"
      return
    fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v initdb)"
    return
  fi
  die "no PostgreSQL server found; install Debian's postgresql (bash scripts/install-components.sh)"
}

BINDIR=$(find_bindir)

# Run a server program as the cluster owner: ourselves, or `postgres` when we are root.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' user (apt-get install postgresql)"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_cluster() {
  local dir=$1 port attempt
  mkdir -p "$dir"
  [[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty"
  [[ $(id -u) -ne 0 ]] || chown postgres: "$dir"
  # Tests want speed; a benchmark comparing with SQLite sets PG_DURABLE=1 to keep fsync.
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [[ -z "${PG_DURABLE:-}" ]] || durability="-c fsync=on"
  as_owner "$BINDIR/initdb" --pgdata="$dir/data" --username="$DB_USER" --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  # The server's settings, kept for `restart`.
  echo "$durability -c max_connections=100 -c shared_buffers=${PG_SHARED_BUFFERS:-128MB}" \
    >"$dir/options"
  # A port can be taken between choosing and binding it: try a few.
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if server_start "$dir" "$port"; then
      echo "$port" >"$dir/port"
      as_owner "$BINDIR/createdb" --host=127.0.0.1 --port="$port" --username="$DB_USER" \
        "$DB_NAME" || die "createdb failed"
      echo "postgres://$DB_USER@127.0.0.1:$port/$DB_NAME"
      return
    fi
    echo "pg-cluster: start on port $port failed (attempt $attempt):" >&2
    tail -n 5 "$dir/server.log" >&2 || true
  done
  die "could not start PostgreSQL; see $dir/server.log"
}

# `-c shared_preload_libraries=pg_prewarm` when the module is installed, unless PG_AUTOPREWARM=0.
preload_options() {
  local libdir
  [[ "${PG_AUTOPREWARM:-1}" != 0 ]] || return 0
  libdir=$("$BINDIR/pg_config" --pkglibdir 2>/dev/null) || return 0
  [[ -f "$libdir/pg_prewarm.so" ]] && echo "-c shared_preload_libraries=pg_prewarm"
  return 0
}

server_start() {
  local dir=$1 port=$2
  as_owner "$BINDIR/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait \
    --timeout=60 --silent start \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir'" \
    -o "$(cat "$dir/options") $(preload_options)"
}

restart_cluster() {
  local dir=$1
  [[ -f "$dir/port" && -f "$dir/options" ]] || die "$dir holds no cluster started by this script"
  stop_cluster "$dir"
  server_start "$dir" "$(cat "$dir/port")" || die "could not restart; see $dir/server.log"
  echo "postgres://$DB_USER@127.0.0.1:$(cat "$dir/port")/$DB_NAME"
}

stop_cluster() {
  local dir=$1
  local pid
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  if ! as_owner "$BINDIR/pg_ctl" --pgdata="$dir/data" --mode=fast --wait --timeout=30 \
    --silent stop; then
    # Never leave a server behind: end it by the process id it recorded.
    pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
    echo "pg-cluster: pg_ctl stop failed; sending SIGQUIT to $pid" >&2
    [[ -z "$pid" ]] || kill -QUIT "$pid" 2>/dev/null || true
  fi
}

command=${1:-}
case "$command" in
  start)
    [[ $# -eq 2 ]] || die "usage: $0 start DIR"
    start_cluster "$2"
    ;;
  stop)
    [[ $# -eq 2 ]] || die "usage: $0 stop DIR"
    stop_cluster "$2"
    ;;
  restart)
    [[ $# -eq 2 ]] || die "usage: $0 restart DIR"
    restart_cluster "$2"
    ;;
  run)
    shift
    [[ "${1:-}" == "--" ]] && shift
    [[ $# -gt 0 ]] || die "usage: $0 run -- COMMAND [ARGS...]"
    # As root the server runs as `postgres`, which must reach the directory: use /tmp.
    parent=${TMPDIR:-/tmp}
    [[ $(id -u) -ne 0 ]] || parent=/tmp
    dir=$(mktemp -d "$parent/dossier-pg-XXXXXX")
    chmod 755 "$dir"
    cleanup() {
      stop_cluster "$dir/cluster"
      rm -rf "$dir"
    }
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    url=$(start_cluster "$dir/cluster")
    echo "pg-cluster: $("$BINDIR/postgres" --version | awk '{print $1, $3}') at $url"
    status=0
    DATABASE_URL=$url "$@" || status=$?
    exit "$status"
    ;;
  *)
    die "usage: $0 run -- COMMAND | start DIR | stop DIR | restart DIR"
    ;;
esac
