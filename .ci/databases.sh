#!/usr/bin/env bash
# .ci/databases.sh — make PostgreSQL and MariaDB reachable on loopback for the
# integration tests of executor/sqlrun (and anything else that needs them).
#
# Usage:
#   source .ci/databases.sh      # starts servers and exports the variables below
#   bash .ci/databases.sh        # same, and prints `export ...` lines to stdout
#   bash .ci/databases.sh stop   # stops servers this script started
#
# Overrides: DPL_PG_PORT (5432), DPL_MYSQL_PORT (3306), DPL_DB_DIR (/tmp).
#
# Exported variables (also written to $DPL_DB_DIR/dpl-databases.env):
#   DPL_TEST_PG_DSN     postgres://dpl:<pw>@127.0.0.1:5432/postgres?sslmode=disable
#                       (superuser role "dpl"; tests create throwaway databases)
#   DPL_TEST_MYSQL_DSN  dpl:<pw>@tcp(127.0.0.1:3306)/   (go-sql-driver/mysql form;
#                       user dpl with ALL PRIVILEGES WITH GRANT OPTION)
#   DPL_TEST_DB_USER, DPL_TEST_DB_PASSWORD   the shared test credentials
#
# Servers: the packaged binaries (apt-get install when missing) run as throwaway
# instances with data under /tmp (/tmp/dpl-pg, /tmp/dpl-mysql), bound to
# 127.0.0.1 only. If something already answers on a port with the test
# credentials it is reused. Failure to start one server is reported loudly but
# is not fatal: the tests skip with a reason naming the missing variable.

# Safe to source from a script running with `set -eu`: every step that may
# fail is guarded, and failures are reported on stderr instead.
_dpl_db_main() {
  local user=dpl pass=dpl-test-pw
  local pgport=${DPL_PG_PORT:-5432} myport=${DPL_MYSQL_PORT:-3306}
  local base=${DPL_DB_DIR:-/tmp}
  local pgdir=$base/dpl-pg myddir=$base/dpl-mysql
  local log=$base/dpl-databases.log
  local envfile=$base/dpl-databases.env
  mkdir -p "$base"
  local pg_ok=0 my_ok=0

  if [ "${1:-}" = stop ]; then
    [ -f "$pgdir/data/postmaster.pid" ] && runuser -u postgres -- "$(_dpl_pgbin)/pg_ctl" -D "$pgdir/data" -m fast stop
    [ -f "$myddir/mysqld.pid" ] && kill "$(cat "$myddir/mysqld.pid")"
    rm -f "$envfile"
    return 0
  fi

  _dpl_apt() {
    if [ -z "${_DPL_APT_UPDATED:-}" ]; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$log" 2>&1
      _DPL_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >>"$log" 2>&1
  }

  # ---------------- PostgreSQL ----------------
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "databases.sh: installing postgresql" >&2
    _dpl_apt postgresql postgresql-client || echo "databases.sh: apt-get install postgresql failed (see $log)" >&2
  fi
  local pgbin; pgbin=$(_dpl_pgbin)
  if PGPASSWORD=$pass psql -h 127.0.0.1 -p $pgport -U $user -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    pg_ok=1
  elif [ -n "$pgbin" ]; then
    if ! (exec 3<>/dev/tcp/127.0.0.1/$pgport) 2>/dev/null; then
      if [ ! -f "$pgdir/data/PG_VERSION" ]; then
        rm -rf "$pgdir"; mkdir -p "$pgdir"; chown postgres: "$pgdir"
        printf '%s\n' "$pass" >"$pgdir/pw"; chown postgres: "$pgdir/pw"
        runuser -u postgres -- "$pgbin/initdb" -D "$pgdir/data" -U "$user" --pwfile="$pgdir/pw" \
          --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >>"$log" 2>&1 ||
          echo "databases.sh: initdb failed (see $log)" >&2
        rm -f "$pgdir/pw"
      fi
      # fsync off and a bigger WAL: a throwaway test cluster, not a durable one.
      # Retried: after an abrupt stop, old backends may hold the shared memory a little while.
      local try
      for try in 1 2 3; do
        runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
          -o "-h 127.0.0.1 -p $pgport -k $pgdir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=2GB" \
          start >>"$log" 2>&1 && break
        echo "databases.sh: postgres start attempt $try failed (see $pgdir/server.log)" >&2
        sleep 3
      done
    else
      # Someone else's server on the port (e.g. the system service): add our role via the socket.
      runuser -u postgres -- psql -p $pgport -Atc \
        "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='$user') THEN CREATE ROLE $user LOGIN SUPERUSER PASSWORD '$pass'; END IF; END\$\$" >>"$log" 2>&1 ||
        echo "databases.sh: could not add role $user to the PostgreSQL already on port $pgport" >&2
    fi
    PGPASSWORD=$pass psql -h 127.0.0.1 -p $pgport -U $user -d postgres -Atc 'select 1' >/dev/null 2>&1 && pg_ok=1
  fi

  # ---------------- MariaDB ----------------
  if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
    echo "databases.sh: installing mariadb-server" >&2
    _dpl_apt mariadb-server mariadb-client || echo "databases.sh: apt-get install mariadb-server failed (see $log)" >&2
  fi
  if mariadb -h 127.0.0.1 -P $myport -u $user -p"$pass" -e 'select 1' >/dev/null 2>&1; then
    my_ok=1
  elif [ -x /usr/sbin/mariadbd ]; then
    if ! (exec 3<>/dev/tcp/127.0.0.1/$myport) 2>/dev/null; then
      if [ ! -d "$myddir/data/mysql" ]; then
        rm -rf "$myddir"; mkdir -p "$myddir/data"; chown -R mysql: "$myddir"
        mariadb-install-db --user=mysql --datadir="$myddir/data" --auth-root-authentication-method=socket \
          --skip-test-db >>"$log" 2>&1 || echo "databases.sh: mariadb-install-db failed (see $log)" >&2
      fi
      setsid /usr/sbin/mariadbd --user=mysql --datadir="$myddir/data" --socket="$myddir/mysqld.sock" \
        --pid-file="$myddir/mysqld.pid" --bind-address=127.0.0.1 --port=$myport \
        --log-error="$myddir/error.log" --innodb-flush-log-at-trx-commit=0 --skip-log-bin \
        </dev/null >>"$log" 2>&1 &
      local i
      for i in $(seq 1 60); do
        [ -S "$myddir/mysqld.sock" ] && mariadb -S "$myddir/mysqld.sock" -u root -e 'select 1' >/dev/null 2>&1 && break
        sleep 0.5
      done
      mariadb -S "$myddir/mysqld.sock" -u root >>"$log" 2>&1 <<SQL || echo "databases.sh: could not create MariaDB user $user (see $myddir/error.log)" >&2
CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$pass';
CREATE USER IF NOT EXISTS '$user'@'localhost' IDENTIFIED BY '$pass';
GRANT ALL PRIVILEGES ON *.* TO '$user'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$user'@'localhost' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
    fi
    mariadb -h 127.0.0.1 -P $myport -u $user -p"$pass" -e 'select 1' >/dev/null 2>&1 && my_ok=1
  fi

  : >"$envfile"
  if [ $pg_ok = 1 ]; then
    export DPL_TEST_PG_DSN="postgres://$user:$pass@127.0.0.1:$pgport/postgres?sslmode=disable"
    echo "export DPL_TEST_PG_DSN='$DPL_TEST_PG_DSN'" >>"$envfile"
  else
    echo "databases.sh: WARNING PostgreSQL is NOT available; DPL_TEST_PG_DSN unset, its tests will skip" >&2
  fi
  if [ $my_ok = 1 ]; then
    export DPL_TEST_MYSQL_DSN="$user:$pass@tcp(127.0.0.1:$myport)/"
    echo "export DPL_TEST_MYSQL_DSN='$DPL_TEST_MYSQL_DSN'" >>"$envfile"
  else
    echo "databases.sh: WARNING MariaDB is NOT available; DPL_TEST_MYSQL_DSN unset, its tests will skip" >&2
  fi
  export DPL_TEST_DB_USER=$user DPL_TEST_DB_PASSWORD=$pass
  echo "export DPL_TEST_DB_USER='$user' DPL_TEST_DB_PASSWORD='$pass'" >>"$envfile"
  echo "databases.sh: postgres=$pg_ok mariadb=$my_ok (env in $envfile)" >&2
}

_dpl_pgbin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1) || true
  printf '%s' "$d"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  _dpl_db_main "$@"
  [ "${1:-}" = stop ] || cat "${DPL_DB_DIR:-/tmp}/dpl-databases.env"
else
  _dpl_db_main "$@"
fi
