# syntax=docker/dockerfile:1
# One image for the control plane: api, worker, ECS simulator and the `snowline` CLI, on Node 24 (LTS).
#   docker build -t snowline .
#   docker run snowline node dist/apps/worker/src/main.js      (the default command is the api)
# The agent for real hosts is not in this image; see "Deploy" in the README.

# Stage 1: compile the TypeScript and the web console with every dependency.
FROM node:24-bookworm AS build
WORKDIR /src
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY migrations ./migrations
COPY scripts ./scripts
# The benchmark scripts share test/support's database helpers.
COPY test/support ./test/support
RUN npm run build --silent

# Stage 2: production dependencies only (no compilers, test runners or bundlers).
FROM node:24-bookworm AS prod-deps
WORKDIR /src
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Stage 3: what runs — slim Node, the built dist/, production node_modules, a non-root user.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    SNOWLINE_DATA_DIR=/var/lib/snowline \
    API_HOST=0.0.0.0
WORKDIR /app
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# The data dir holds the admin key, the master key (unless SNOWLINE_MASTER_KEY is set) and the
# simulator's state: mount a volume there. `snowline` on PATH is the CLI.
RUN mkdir -p /var/lib/snowline && chown node:node /var/lib/snowline \
 && chmod +x dist/apps/cli/src/main.js && ln -s /app/dist/apps/cli/src/main.js /usr/local/bin/snowline
# The official image's unprivileged user (uid 1000).
USER node
EXPOSE 3000 3100
CMD ["node", "dist/apps/api/src/main.js"]
