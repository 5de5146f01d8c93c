#!/bin/sh
# The gateway image's entrypoint: renders the repo's nginx.conf template (every
# ${HERALD_*} placeholder, from the environment) into the config nginx reads,
# then runs the command (nginx). The same placeholders are filled by
# scripts/gateway-config.ts for a local run, so both run the same routing.
# -f: no globbing, so a listed value is only ever the text it is
set -euf

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
mkdir -p "$HERALD_NGINX_RUN_DIR"

# Proxies in front of the gateway whose X-Forwarded-For is believed (addresses or
# CIDRs, comma- or space-separated; none by default): one set_real_ip_from each,
# in the file nginx.conf includes. Anything else is refused, never written into
# the config. scripts/gateway-config.ts writes the same file for a local run.
proxies_file="$HERALD_NGINX_RUN_DIR/trusted-proxies.conf"
: >"$proxies_file"
for proxy in $(printf '%s' "${HERALD_TRUSTED_PROXIES:-}" | tr ',' ' '); do
  if ! printf '%s' "$proxy" | grep -Eq '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$'; then
    echo "gateway: HERALD_TRUSTED_PROXIES takes addresses and CIDRs only; not: $proxy" >&2
    exit 78
  fi
  echo "set_real_ip_from $proxy;" >>"$proxies_file"
done
# Only HERALD_ variables are substituted: nginx's own $host, $uri, ... stay.
variables=$(env | sed -n 's/^\(HERALD_[A-Z0-9_]*\)=.*/${\1}/p' | tr '\n' ' ')
envsubst "$variables" <"$template" >"$output"

exec "$@"
