#!/usr/bin/env bash
# Every row of the README's "Issue 18 at 100,000 pieces" table, one benchmark at a time.
#
#   bash benchmarks/issue18.sh DATA OUT [PIECES [sqlite|postgresql]]
#
# DATA keeps the generated catalogues between runs: search.py's bench-PIECES.sqlite3 and
# pages.py's pages-PIECES.sqlite3, each generated the first time it is missing and never
# written afterwards: every timed run works on a fresh copy in OUT/scratch, which is deleted
# at the end. OUT gets one text file per benchmark, each
# printing its own load averages, and summary.txt with all of them in one file.
#
# With DATABASE_URL=postgres://… the PostgreSQL rows run too, against the catalogue
# already in that database: a benchmark cluster (`PG_SHARED_BUFFERS=1GB bash
# scripts/pg-cluster.sh start DIR`) that `benchmarks/search.py --postgres --pieces PIECES
# --engines database` filled once. Its task queue is emptied before the timed saves (queued
# tasks of earlier runs would run beside them); never point this at a database that matters.
#
# PIECES defaults to 100000; a fourth argument runs one database's rows only. Run it with
# nothing else on the machine: the figures are latencies on whatever cores are free.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
DATA=$(realpath -m "$1")
OUT=$(realpath -m "$2")
PIECES=${3:-100000}
ONLY=${4:-}
case $ONLY in "" | sqlite | postgresql) ;; *) echo "unknown database: $ONLY" >&2; exit 2 ;; esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
PG_URL=${DATABASE_URL:-}
SCRATCH=$OUT/scratch
mkdir -p "$DATA" "$OUT" "$SCRATCH"
trap 'rm -rf "$SCRATCH"' EXIT
cd "$ROOT"
unset DATABASE_URL

step() {  # step NAME COMMAND...: run one benchmark, its output in OUT/NAME.txt
  local name=$1
  shift
  echo "== $name ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))"
  "$@" >"$OUT/$name.txt" 2>&1 || {
    echo "   failed (exit $?): see $OUT/$name.txt"
    return 1
  }
}

fresh_copy() {  # fresh_copy FILE: a copy of FILE in SCRATCH (the original stays as built)
  rm -f "$SCRATCH/$(basename "$1")"*
  cp "$1" "$SCRATCH/"
}

sqlite_rows() {
  local search_db=$DATA/bench-$PIECES.sqlite3 pages_db=$DATA/pages-$PIECES.sqlite3
  if [[ ! -f $search_db ]]; then
    step sqlite-generate "$PY" benchmarks/search.py --pieces "$PIECES" --engines database \
      --db-dir "$DATA" --queries 7
  fi
  if [[ ! -f $pages_db ]]; then
    step sqlite-pages-generate "$PY" benchmarks/pages.py --pieces "$PIECES" --db-dir "$DATA" \
      --build-only
  fi
  # The rebuild rate, the query mix (3 runs), updates, saves with the worker, index size.
  fresh_copy "$search_db"
  step sqlite-search "$PY" benchmarks/search.py --pieces "$PIECES" --engines database \
    --db-dir "$SCRATCH" --repeat 3
  # The save line alone, on the index the run above rebuilt and the worker merged.
  step sqlite-saves "$PY" benchmarks/search.py --pieces "$PIECES" --engines database \
    --db-dir "$SCRATCH" --save-only
  fresh_copy "$pages_db"
  step sqlite-pages "$PY" benchmarks/pages.py --pieces "$PIECES" --db-dir "$SCRATCH" \
    --after-writes 20
  fresh_copy "$search_db"
  step sqlite-load "$PY" benchmarks/load.py --only sqlite --pieces "$PIECES" --duration 60 \
    --sqlite-db "$SCRATCH/$(basename "$search_db")"
  rm -f "$SCRATCH"/*.sqlite3*
  step sqlite-readinglists "$PY" benchmarks/readinglists.py --entries 50,200
}

postgresql_rows() {
  export DATABASE_URL=$PG_URL
  step postgresql-migrate "$PY" manage.py migrate --noinput -v 0
  step postgresql-pages "$PY" benchmarks/pages.py --postgres --reuse --pieces "$PIECES" \
    --after-writes 20
  step postgresql-empty-queue "$PY" manage.py shell -c "
from django_tasks_db.models import DBTaskResult
queued = DBTaskResult.objects.filter(status__in=['READY', 'RUNNING'])
print(queued.delete()[0], 'queued tasks removed')"
  step postgresql-search "$PY" benchmarks/search.py --postgres --reuse --reuse-index \
    --repeat 3 --engines database --pieces "$PIECES" --worker
  step postgresql-load "$PY" benchmarks/load.py --only postgresql --pieces "$PIECES" \
    --duration 60
  step postgresql-readinglists "$PY" benchmarks/readinglists.py --postgres --entries 50,200
  unset DATABASE_URL
}

if [[ $ONLY == postgresql && $PG_URL != postgres* ]]; then
  echo "the PostgreSQL rows need DATABASE_URL=postgres://…" >&2
  exit 2
fi
git log --oneline -1 >"$OUT/commit.txt"
if [[ $ONLY != postgresql ]]; then
  sqlite_rows
fi
if [[ $ONLY != sqlite && $PG_URL == postgres* ]]; then
  postgresql_rows
fi

# Every benchmark's figures in one file, without the log lines some of them print.
{
  echo "commit $(cat "$OUT/commit.txt"); $PIECES pieces; finished $(date -u +%F\ %H:%M) UTC"
  for file in "$OUT"/*.txt; do
    case $(basename "$file") in summary.txt | commit.txt) continue ;; esac
    echo "--- $(basename "$file" .txt)"
    grep -v -E "^[0-9-]+ [0-9:,]+ (INFO|WARNING) |^\s*$" "$file" || true
  done
} >"$OUT/summary.txt"
echo "== done: $OUT/summary.txt"
