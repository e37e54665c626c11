# A throw-away PostgreSQL cluster for the `rnncast tune` 2-worker test; sourced by .ci/run.
#
#   start_postgres   installs Debian's postgresql if initdb is missing, runs initdb in a temp
#                    folder as an unprivileged user (initdb refuses root), starts the server on a
#                    free local port and exports RNNCAST_TEST_POSTGRES_URL
#   stop_postgres    stops the server and removes the folder (.ci/run calls it from a trap)

PG_DIR=""
PG_BIN=""
PG_USER=""

_pg_bin() {
    local found
    if found="$(command -v initdb 2>/dev/null)"; then
        dirname "$(readlink -f "$found")"
        return
    fi
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

_as_pg_user() {  # run a command as $PG_USER (we are root), or directly when we are not root
    if [ "$(id -u)" = 0 ]; then  # from its own folder: the user may not read our cwd
        (cd "$PG_DIR" && runuser -u "$PG_USER" -- "$@")
    else
        "$@"
    fi
}

start_postgres() {
    PG_BIN="$(_pg_bin || true)"
    if [ -z "$PG_BIN" ]; then
        echo "ci: installing postgresql (initdb not found)" >&2
        if [ "$(id -u)" = 0 ]; then
            DEBIAN_FRONTEND=noninteractive apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        else
            sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
            sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        fi
        PG_BIN="$(_pg_bin)"
    fi
    PG_USER="$(id -un)"
    if [ "$(id -u)" = 0 ]; then
        PG_USER=postgres
        id "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home "$PG_USER"
    fi
    PG_DIR="$(mktemp -d /tmp/rnncast-pg.XXXXXX)"
    chown "$PG_USER" "$PG_DIR"
    local port
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    _as_pg_user "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" --auth=trust -E UTF8 >"$PG_DIR/initdb.log"
    _as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
        -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null
    _as_pg_user "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U "$PG_USER" rnncast_test
    export RNNCAST_TEST_POSTGRES_URL="postgresql://$PG_USER@127.0.0.1:$port/rnncast_test"
    echo "ci: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($PG_DIR)" >&2
}

stop_postgres() {
    if [ -n "$PG_DIR" ] && [ -d "$PG_DIR/data" ]; then
        _as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
    PG_DIR=""
}
