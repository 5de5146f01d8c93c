# syntax=docker/dockerfile:1
#
# One image recipe for every Node process of Herald: the five services and the
# fake providers. `--build-arg SERVICE=auth` (or notification, delivery-worker,
# realtime, workflows, fake-providers) picks the workspace package; PORT is where its
# health endpoint answers.
#
# One file rather than four near-copies because the services differ only in
# that name: the install and the compile below come before `ARG SERVICE`, so
# docker compose builds them once and every image reuses those layers, and the
# Node version, the non-root user and the health check live in one place.

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-slim AS build
ENV CI=true
WORKDIR /repo
# The lockfile alone decides the dependency download, so this layer survives
# every source change. pnpm is the version package.json pins; installed with
# npm, as .ci/run does, so the build does not depend on corepack.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
RUN npm install -g --no-audit --no-fund "pnpm@$(node -p "require('./package.json').packageManager.split('@')[1]")" \
 && pnpm fetch --frozen-lockfile
COPY tsconfig.base.json ./
COPY packages packages
COPY services services
RUN pnpm install --frozen-lockfile --offline
# The four services, the fake providers (an image of their own; no service
# runs on them) and every package they run on, in dependency order.
# --filter-prod because a plain --filter follows devDependencies too, and
# runtime → test-support (dev) → runtime is a cycle that breaks the build
# order on a fresh checkout. packages/local-infra and test-support are copied
# (the workspace install needs every package.json) but never built here.
RUN pnpm --filter-prod "{services/*}..." --filter-prod "@herald/fake-providers..." run build

ARG SERVICE
RUN test -n "${SERVICE}" || { echo 'build with --build-arg SERVICE=<auth|notification|delivery-worker|realtime|workflows|fake-providers>' >&2; exit 1; }
# A self-contained directory: the package, its dist, and production
# dependencies only, with the workspace packages copied in (their dist is what
# the `default` export condition points at). pnpm 10 deploys a workspace
# without injected workspace packages only in its --legacy mode.
RUN pnpm --filter "@herald/${SERVICE}" deploy --prod --legacy /out

FROM node:${NODE_VERSION}-slim AS runtime
ARG SERVICE
ARG PORT=3000
LABEL org.opencontainers.image.title="herald-${SERVICE}"
ENV NODE_ENV=production \
    PORT=${PORT}
WORKDIR /app
# Owned by root, run as node: the process reads its code but cannot rewrite it.
COPY --from=build /out ./
USER node
EXPOSE ${PORT}
# The slim image has no curl or wget; Node's fetch asks the service itself.
# (The fake providers have no /health/ready: docker-compose.yml checks them its own way.)
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/server.js"]
