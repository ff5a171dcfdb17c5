# syntax=docker/dockerfile:1
# api-gateway: built with nx (@nx/esbuild: a bundle of the app and the libs it imports, plus a package.json and
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
RUN NX_DAEMON=false NX_NO_CLOUD=true npx nx run api-gateway:build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/app/data NODE_OPTIONS=--max-semi-space-size=8
WORKDIR /app
# The pruned manifests first: this layer changes only when the app's dependencies do.
COPY --from=build /repo/dist/apps/api-gateway/package.json /repo/dist/apps/api-gateway/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /repo/dist/apps/api-gateway/ ./
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "main.cjs"]
