# syntax=docker/dockerfile:1
# rag-worker: built with nx (esbuild bundle of the app and its libs), run with only production dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /repo
# Manifests first, so the dependency layer is cached until they change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY nx.json tsconfig.base.json ./
COPY apps ./apps
COPY libs ./libs
COPY tools ./tools
RUN NX_DAEMON=false NX_NO_CLOUD=true npx nx run rag-worker:build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /repo/dist/apps/rag-worker ./dist/apps/rag-worker
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
ENTRYPOINT ["node", "dist/apps/rag-worker/main.js"]
