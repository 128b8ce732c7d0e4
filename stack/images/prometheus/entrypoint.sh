#!/bin/sh
# Starts Prometheus on 127.0.0.1:$PROMETHEUS_PORT with --web.enable-lifecycle (POST /-/reload).
#   PROMETHEUS_CONFIG_FILE  the config (mount it here; default /etc/lagstorm/prometheus.yml)
#   PROMETHEUS_CONFIG       optional: the config's text, written to PROMETHEUS_CONFIG_FILE first
# With neither, Prometheus scrapes only itself.
set -eu
mkdir -p "$(dirname "$PROMETHEUS_CONFIG_FILE")" /var/lib/lagstorm/prometheus
if [ -n "$PROMETHEUS_CONFIG" ]; then
  printf '%s\n' "$PROMETHEUS_CONFIG" > "$PROMETHEUS_CONFIG_FILE"
elif [ ! -e "$PROMETHEUS_CONFIG_FILE" ]; then
  printf 'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: [127.0.0.1:%s]\n' "$PROMETHEUS_PORT" > "$PROMETHEUS_CONFIG_FILE"
fi
exec /usr/bin/prometheus --config.file="$PROMETHEUS_CONFIG_FILE" --storage.tsdb.path=/var/lib/lagstorm/prometheus \
  --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --web.enable-lifecycle \
  --web.console.templates=/etc/prometheus/consoles --web.console.libraries=/etc/prometheus/console_libraries "$@"
