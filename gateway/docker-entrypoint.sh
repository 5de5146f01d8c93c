#!/bin/sh
# The gateway image's entrypoint: renders the repo's nginx.conf template (every
# ${HERALD_*} placeholder, from the environment) into the config nginx reads,
# then runs the command (nginx). The same placeholders are filled by
# scripts/gateway-config.ts for a local run, so both run the same routing.
set -eu

template=${GATEWAY_TEMPLATE:-/etc/nginx/herald/nginx.conf.template}
output=${GATEWAY_CONF:-/etc/nginx/nginx.conf}

# A placeholder without a value would reach nginx as literal text and fail
# with an obscure parse error, or worse parse: name every missing one instead.
missing=''
for name in $(grep -o '\${HERALD_[A-Z0-9_]*}' "$template" | tr -d '${}' | sort -u); do
  eval "value=\${$name:-}"
  [ -n "$value" ] || missing="$missing $name"
done
if [ -n "$missing" ]; then
  echo "gateway: $template uses these variables, which have no value:$missing" >&2
  exit 78
fi

# the pid file and temp directories live here; a fresh container has none
[ -z "${HERALD_NGINX_RUN_DIR:-}" ] || mkdir -p "$HERALD_NGINX_RUN_DIR"
# Only HERALD_ variables are substituted: nginx's own $host, $uri, ... stay.
variables=$(env | sed -n 's/^\(HERALD_[A-Z0-9_]*\)=.*/${\1}/p' | tr '\n' ' ')
envsubst "$variables" <"$template" >"$output"

exec "$@"
