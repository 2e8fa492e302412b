# One image for both processes: docker-compose.yml runs `node dist/api/server.js` (the default
# command) for the webhook API and `node dist/worker.js` for the Temporal worker.

# Build stage: the full Debian image has python3, make and g++, which better-sqlite3 needs when
# no prebuilt binary matches the platform.
FROM node:20-bookworm AS build
WORKDIR /app

# Copy the manifests first so the dependency layer stays cached until they change.
# NOTE: node:20 ships npm 10, which does not read the `allowScripts` block and runs every install script.
# Today that changes nothing, because the only packages with one (better-sqlite3, esbuild, @swc/core and
# protobufjs) are all approved there.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Remove dev dependencies in place, so the runtime stage reuses the native module built above.
RUN npm prune --omit=dev --no-audit --no-fund


# Runtime stage: the slim image has no compiler, so the native module must come from the build stage,
# which uses the same Debian release (bookworm) and Node.js major version.
FROM node:20-bookworm-slim AS runtime
WORKDIR /app

ENV NODE_ENV=production
ENV DATA_DIR=/data

COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The worker reads the SQL migrations from <app root>/migrations at run time.
COPY migrations ./migrations
# The worker reads the region policy from <app root>/config/region-policy.json unless REGION_POLICY_FILE is set.
COPY config ./config

# Docker copies this owner into a new named volume mounted at /data, so the non-root user can write there.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]

# `node` (uid 1000) comes with the official image. The code under /app stays owned by root, read-only for it.
USER node

EXPOSE 3000
CMD ["node", "dist/api/server.js"]
