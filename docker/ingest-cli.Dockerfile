# syntax=docker/dockerfile:1
# ingest-cli: built with nx (esbuild bundle of the app and its libs), run with only production dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /repo
# Manifests first, so the dependency layer is cached until they change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY nx.json tsconfig.base.json ./
COPY apps ./apps
COPY libs ./libs
COPY tools ./tools
RUN NX_DAEMON=false NX_NO_CLOUD=true npx nx run ingest-cli:build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /repo/dist/apps/ingest-cli ./dist/apps/ingest-cli
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node

ENTRYPOINT ["node", "dist/apps/ingest-cli/main.js"]
