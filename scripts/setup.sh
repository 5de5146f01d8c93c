#!/usr/bin/env bash
# One command for a fresh machine: installs what Herald needs to run (`pnpm start`) and to test
# (`pnpm test`), then its dependencies. Safe to run again: it installs only what is missing.
#
#   bash scripts/setup.sh
#
# Debian/Ubuntu: pnpm (the version package.json pins, through npm), nginx (the gateway), a JDK
# and Maven (the embedded MongoDB-wire server, when no MongoDB is at MONGO_URL), RabbitMQ
# (installed and started unless something answers on 127.0.0.1:5672 or AMQP_URL is set), then
# `pnpm install --frozen-lockfile`. Needs root or sudo for the system packages.
# macOS: prints the Homebrew commands instead (it installs nothing system-wide by itself).
# Node.js 20.19+ must already be installed (https://nodejs.org or your package manager).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
broker_answers() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

have node || { echo "Node.js 20.19+ is required first: https://nodejs.org" >&2; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  { echo "Node.js 20.19+ is required (found $(node --version))" >&2; exit 1; }

pnpm_version=$(node -p "require('./package.json').packageManager.split('@')[1]")

if [ "$(uname -s)" = "Darwin" ]; then
  say "macOS: install these with Homebrew, then run this script again"
  missing=''
  have nginx || missing="$missing nginx"
  have javac || missing="$missing openjdk@17"
  have mvn || missing="$missing maven"
  { [ -n "${AMQP_URL:-}" ] || broker_answers; } || missing="$missing rabbitmq"
  if [ -n "$missing" ]; then
    echo "  brew install$missing"
    case "$missing" in *rabbitmq*) echo "  brew services start rabbitmq" ;; esac
    exit 1
  fi
fi

SUDO=''
if [ "$(id -u)" != 0 ] && have sudo; then SUDO='sudo'; fi
apt_updated=false
apt_install() {
  have apt-get || { echo "not Debian/Ubuntu: install $* with your package manager, then run this again" >&2; exit 1; }
  if [ "$apt_updated" = false ]; then
    $SUDO apt-get update -qq
    apt_updated=true
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

say "pnpm ${pnpm_version}"
# corepack cannot read every registry's metadata; npm installs pnpm anywhere Node runs.
if ! have pnpm || [ "$(pnpm --version)" != "$pnpm_version" ]; then
  $SUDO npm install -g --silent "pnpm@${pnpm_version}"
fi
pnpm --version

say "system packages"
# nginx: the gateway of `pnpm start` and of the end-to-end tests
have nginx || [ -x /usr/sbin/nginx ] || apt_install nginx
# Chromium: the browser the web app's tests drive headless (apps/web/test, through playwright-core)
[ -x /usr/bin/chromium ] || apt_install chromium
# JDK + Maven: the embedded MongoDB-wire server (packages/local-infra) when no MongoDB is reachable
have javac || apt_install openjdk-17-jdk-headless
have mvn || apt_install maven
# sed, not head: head exits after one line, the writer gets SIGPIPE and pipefail fails the run
java -version 2>&1 | sed -n 1p
mvn -v 2>/dev/null | sed -n 1p
{ have nginx && nginx -v 2>&1; } || /usr/sbin/nginx -v 2>&1

say "RabbitMQ on 127.0.0.1:5672 (unless AMQP_URL points elsewhere)"
if [ -z "${AMQP_URL:-}" ] && ! broker_answers; then
  have rabbitmq-server || [ -x /usr/sbin/rabbitmq-server ] || apt_install rabbitmq-server
  PATH="$PATH:/usr/sbin"
  # a machine without systemd (containers, CI) starts it detached
  $SUDO systemctl start rabbitmq-server 2>/dev/null || $SUDO rabbitmq-server -detached
  for _ in $(seq 1 60); do broker_answers && break; sleep 1; done
  broker_answers || { echo "RabbitMQ is not reachable on 127.0.0.1:5672 and could not be started" >&2; exit 1; }
fi
echo "RabbitMQ answers"

say "dependencies (frozen lockfile)"
pnpm install --frozen-lockfile --reporter=append-only

say "ready: pnpm start (the platform) · pnpm test (the tests)"
