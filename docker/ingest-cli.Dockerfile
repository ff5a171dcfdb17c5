# syntax=docker/dockerfile:1
# ingest-cli: built with nx (@nx/esbuild: a bundle of the app and the libs it imports, plus a package.json and
# lock file pruned to the npm packages it uses); the runtime stage installs only those, as the non-root user.
FROM node:20-bookworm-slim AS build
WORKDIR /repo
# Manifests first, so the dependency layer is cached until they change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY nx.json tsconfig.base.json eslint.config.mjs jest.preset.js ./
COPY apps ./apps
COPY libs ./libs
COPY tools ./tools
RUN NX_DAEMON=false NX_NO_CLOUD=true npx nx run ingest-cli:build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production DATA_DIR=/app/data
WORKDIR /app
# The pruned manifests first: this layer changes only when the app's dependencies do.
COPY --from=build /repo/dist/apps/ingest-cli/package.json /repo/dist/apps/ingest-cli/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /repo/dist/apps/ingest-cli/ ./
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
# A one-off command (rag-ingest …), not a service: nothing to probe.
HEALTHCHECK NONE
ENTRYPOINT ["node", "main.cjs"]
