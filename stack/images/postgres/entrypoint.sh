#!/bin/sh
# Starts PostgreSQL 15 on 127.0.0.1:$PGPORT (host networking), trust auth for loopback.
#   PGDATA                the cluster (initdb'd at first start when it holds no PG_VERSION)
#   PGWALDIR              optional: pg_wal goes to $PGWALDIR/pg_wal (mount a small volume at PGWALDIR for a
#                         full-WAL-disk fault; the subdirectory keeps initdb away from the volume's lost+found)
#   LAGSTORM_PG_SETTINGS  optional: postgresql.conf lines ("name = value", one a line) written at initdb
# Settings go to postgresql.conf, never to -c flags, so ALTER SYSTEM can still change them; only what
# differs per start (port, listen address, socket dir) is on the command line.
set -eu
BIN=/usr/lib/postgresql/15/bin
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  if [ -n "$PGWALDIR" ]; then mkdir -p "$PGWALDIR" && chown postgres:postgres "$PGWALDIR" && chmod 700 "$PGWALDIR"; fi
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  WALARG=""
  if [ -n "$PGWALDIR" ]; then WALARG="--waldir=$PGWALDIR/pg_wal"; fi
  # shellcheck disable=SC2086
  "$BIN/initdb" -D "$PGDATA" $WALARG -U postgres -A trust -E UTF8 --no-sync --no-instructions >/dev/null
  printf '\n# lagstorm settings\n%s\n' "$LAGSTORM_PG_SETTINGS" >> "$PGDATA/postgresql.conf"
  echo "lagstorm-postgres: initdb done in $PGDATA${PGWALDIR:+ (pg_wal in $PGWALDIR/pg_wal)}"
fi
exec "$BIN/postgres" -D "$PGDATA" -c "port=$PGPORT" -c listen_addresses=127.0.0.1 -c unix_socket_directories=/var/run/postgresql "$@"
