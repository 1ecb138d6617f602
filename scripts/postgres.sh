#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster for the catalog tests.
#
#   scripts/postgres.sh start [DIR]   initialise DIR, start the server on a free
#                                     127.0.0.1 port, print its URL and write
#                                     it to DIR/url
#   scripts/postgres.sh stop [DIR]    stop the server and delete DIR
#
# DIR defaults to ${TMPDIR:-/tmp}/secoda-hub-postgres. Authentication is
# "trust" for the cluster's superuser "hub", which is safe only because the
# server listens on 127.0.0.1 and a socket inside DIR. When the PostgreSQL
# binaries are missing and CI=true, root installs Debian's postgresql package.
# initdb refuses to run as root, so root runs the cluster as "nobody". The
# server runs with fsync off: the cluster is for tests and is thrown away.
set -euo pipefail

usage() {
    echo "usage: $0 start|stop [DIR]" >&2
    exit 2
}

find_bindir() {
    if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
        dirname "$(command -v pg_ctl)"
        return
    fi
    local candidate
    candidate=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [[ -n "$candidate" && -x "$candidate/pg_ctl" ]]; then
        echo "$candidate"
    fi
}

install_postgresql() {
    if [[ "${CI:-}" != "true" || "$(id -u)" != "0" ]]; then
        echo "error: PostgreSQL (initdb, pg_ctl) is not installed." >&2
        echo "Install it, for example with 'sudo apt-get install postgresql'," >&2
        echo "or run this script as root with CI=true to install it." >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Run a command as the cluster's owner: the caller, or "nobody" for root.
as_owner() {
    if [[ "$(id -u)" == "0" ]]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}

start() {
    local dir=$1 bindir port url
    bindir=$(find_bindir)
    if [[ -z "$bindir" ]]; then
        install_postgresql
        bindir=$(find_bindir)
    fi
    if [[ -e "$dir/data" ]]; then
        echo "error: $dir/data already exists; run '$0 stop $dir' first" >&2
        exit 1
    fi

    mkdir -p "$dir/socket"
    if [[ "$(id -u)" == "0" ]]; then
        chown -R nobody "$dir"
    fi
    as_owner "$bindir/initdb" -D "$dir/data" -U hub -A trust -E UTF8 \
        --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }

    port=$(free_port)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/socket -c fsync=off" \
        start || {
        cat "$dir/server.log" >&2
        exit 1
    }

    url="postgresql://hub@127.0.0.1:$port/postgres"
    echo "$url" >"$dir/url"
    echo "$url"
}

stop() {
    local dir=$1 bindir
    if [[ ! -d "$dir/data" ]]; then
        echo "no cluster in $dir; nothing to stop" >&2
        return
    fi
    bindir=$(find_bindir)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -s stop || true
    rm -rf "$dir"
}

[[ $# -ge 1 && $# -le 2 ]] || usage
directory=${2:-${TMPDIR:-/tmp}/secoda-hub-postgres}
case "$1" in
start) start "$directory" ;;
stop) stop "$directory" ;;
*) usage ;;
esac
