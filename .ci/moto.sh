#!/usr/bin/env bash
# .ci/moto.sh — start a moto server (AWS emulator) on a free loopback port
# for the AWS integration tests of executor/awsx and anything driving
# `dpl run --backend aws` in CI.
#
# Usage:
#   source .ci/moto.sh        # starts moto and exports DPL_TEST_MOTO_ENDPOINT
#   bash .ci/moto.sh          # same, and prints `export ...` lines to stdout
#   bash .ci/moto.sh stop     # stops the server this script started
#
# Files:
#   /tmp/dpl-moto.env       export DPL_TEST_MOTO_ENDPOINT='http://127.0.0.1:PORT'
#   /tmp/dpl-moto.endpoint  the bare endpoint URL
#   /tmp/dpl-moto.pid       pid of the server (process group leader)
#   /tmp/dpl-moto.log       server output
#
# A server already answering at the recorded endpoint is reused. When
# moto_server is missing the failure is loud but not fatal: the tests
# skip with a reason naming it.

_dpl_moto_main() {
  local envfile=/tmp/dpl-moto.env epfile=/tmp/dpl-moto.endpoint
  local pidfile=/tmp/dpl-moto.pid log=/tmp/dpl-moto.log
  if [ "${1:-}" = stop ]; then
    if [ -f "$pidfile" ]; then
      local pid
      pid=$(cat "$pidfile")
      # The server runs in its own process group (setsid); end that group only.
      kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null
      rm -f "$pidfile" "$envfile" "$epfile"
      echo "moto.sh: stopped moto_server (pid $pid)" >&2
    fi
    return 0
  fi
  if [ -f "$epfile" ] && curl -fsS -o /dev/null "$(cat "$epfile")/moto-api/" 2>/dev/null; then
    export DPL_TEST_MOTO_ENDPOINT
    DPL_TEST_MOTO_ENDPOINT=$(cat "$epfile")
    echo "moto.sh: reusing moto at $DPL_TEST_MOTO_ENDPOINT" >&2
    return 0
  fi
  if ! command -v moto_server >/dev/null 2>&1; then
    echo "moto.sh: WARNING moto_server not found (pip install 'moto[server]'); DPL_TEST_MOTO_ENDPOINT unset, AWS tests will skip" >&2
    return 0
  fi
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  setsid moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 < /dev/null &
  echo $! >"$pidfile"
  local ep="http://127.0.0.1:$port" i
  for i in $(seq 1 100); do
    if curl -fsS -o /dev/null "$ep/moto-api/" 2>/dev/null; then
      echo "$ep" >"$epfile"
      echo "export DPL_TEST_MOTO_ENDPOINT='$ep'" >"$envfile"
      export DPL_TEST_MOTO_ENDPOINT=$ep
      echo "moto.sh: moto_server ready at $ep (pid $(cat "$pidfile"), log $log)" >&2
      return 0
    fi
    sleep 0.1
  done
  echo "moto.sh: WARNING moto_server did not answer at $ep within 10s; see $log. AWS tests will start their own or skip" >&2
  kill -- "-$(cat "$pidfile")" 2>/dev/null
  rm -f "$pidfile"
  return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  _dpl_moto_main "$@"
  [ "${1:-}" = stop ] || cat /tmp/dpl-moto.env 2>/dev/null
else
  _dpl_moto_main "$@"
fi
