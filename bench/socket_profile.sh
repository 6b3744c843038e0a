#!/usr/bin/env bash
# Where a socket server process spends its time under open-loop load, as docs/performance.md
# measured it: one worker of the production server (crm_project.serve: granian) pinned to core 1, the
# shared harness's load generator
# (../shared/perf/loadgen.mjs: 100 conversations x 10 members) on core 0, a fresh database.
#
#   bench/socket_profile.sh RATE [flame|trace]      (from the project root, after `make install`)
#
# Prints the generator's JSON line and the worker's CPU per message sent over the middle of the run.
# flame: py-spy (requirements-dev.txt) records a flame graph of the worker, artifacts/socket-flame.svg.
# trace: the worker runs with bench/trace/sitecustomize.py (loop callbacks over LOOP_LAG_MS, GC pauses);
#        those lines are printed at the end.
set -eu
rate=${1:?usage: bench/socket_profile.sh RATE [flame|trace]}; mode=${2:-}
perf=${PERF_DIR:-../shared/perf}; duration=${DURATION:-30}; window=${WINDOW:-8}; settle=${SETTLE:-20}
[ -x .venv/bin/python ] || { echo "run from the project root after make install" >&2; exit 2; }
work=$(mktemp -d -t socket-profile.XXXX)
cp -r "$perf"/. "$work/" && (cd "$work/peer" && npm ci --silent --no-audit --no-fund >/dev/null 2>&1)
db=socket_profile_$(date +%s); port=${PORT:-8795}; redis_port=${REDIS_PORT:-6397}
psql -h 127.0.0.1 -U postgres -qc "create database $db"
redis-server --port "$redis_port" --save '' --appendonly no --daemonize yes --pidfile "$work/redis.pid" >/dev/null
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db REDIS_URL=redis://127.0.0.1:$redis_port/0
export DEBUG=false LOG_LEVEL=WARNING ALLOWED_HOSTS=127.0.0.1,localhost FRONTEND_URL=http://localhost:3000
export RATE_LIMIT_MAX_REQUESTS=1000000 SOCKET_RATE_LIMIT=1000
cleanup() {
  kill "${server:-}" 2>/dev/null || true; sleep 2; kill "$(cat "$work/redis.pid")" 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -qc "drop database if exists $db with (force)"
}
trap cleanup EXIT
.venv/bin/python manage.py migrate --noinput >/dev/null
[ "$mode" = trace ] && export PYTHONPATH="$PWD/bench/trace"
taskset -c 1 .venv/bin/python -m crm_project.serve --host 127.0.0.1 --port "$port" --workers 1 >"$work/server.log" 2>&1 &
server=$!
unset PYTHONPATH
for _ in $(seq 120); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
.venv/bin/python "$work/mint_users.py" 1000 "p$RANDOM" >"$work/users.json"
worker=$(pgrep -P "$server" | head -1)  # granian's main process (the launcher, exec'd) has one worker
taskset -c 0 node "$work/loadgen.mjs" --target ours --base "http://127.0.0.1:$port" --members 10 --conversations 100 \
  --rate "$rate" --duration "$duration" --senders 200 --users-file "$work/users.json" >"$work/load.out" 2>&1 &
load=$!
sleep "$settle"
ticks() { awk '{print $14 + $15}' "/proc/$worker/stat"; }
before=$(ticks)
if [ "$mode" = flame ]; then
  mkdir -p artifacts
  .venv/bin/py-spy record --gil --rate 200 --duration "$window" --format flamegraph -o artifacts/socket-flame.svg \
    --pid "$worker" >/dev/null 2>&1
else
  sleep "$window"
fi
after=$(ticks)
wait "$load"
tail -1 "$work/load.out"
echo "worker CPU: $(( (after - before) * 10 / window )) ms per second at $rate sends/s =" \
  "$(echo "scale=2; ($after - $before) * 10 / ($window * $rate)" | bc) ms per message (10 members, 9 deliveries)"
[ "$mode" = flame ] && echo "flame graph: artifacts/socket-flame.svg"
[ "$mode" = trace ] && grep -E "^(loop-lag|gc-pause)" "$work/server.log" | tail -40
exit 0
