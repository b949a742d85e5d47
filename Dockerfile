# One image for every process: the API (default command), the worker, the migration job and, for trying the
# product without a Google key, the local fake Gemini. Build: docker build -t gemini-chat .
FROM node:24-bookworm-slim AS build
WORKDIR /src
RUN npm install -g pnpm@10.34.9
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json ./
COPY packages/api/package.json packages/api/
COPY packages/worker/package.json packages/worker/
COPY packages/shared/package.json packages/shared/
COPY packages/sdk/package.json packages/sdk/
COPY packages/fakes/package.json packages/fakes/
COPY packages/testkit/package.json packages/testkit/
RUN pnpm install --frozen-lockfile
COPY scripts scripts
COPY packages packages
RUN pnpm build \
 && pnpm --filter @gemini-chat/api deploy --legacy --prod /out/api \
 && pnpm --filter @gemini-chat/worker deploy --legacy --prod /out/worker \
 && mkdir -p /out/fakes && cp packages/fakes/dist/*.js /out/fakes/

FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
# A 2 MB young generation (Node's default is 16 MB per semi-space): about 25 MB less RSS per process and a heap
# that grows less under bursts, at no measured throughput cost (docs/performance.md). `pnpm bench` uses the same.
ENV NODE_OPTIONS=--max-semi-space-size=2
COPY --from=build --chown=node:node /out /app
# Where the filesystem storage driver keeps uploads: created here, owned by the app's user, so a named volume
# mounted on it is writable by that user.
RUN mkdir -p /app/data/files && chown -R node:node /app/data
ENV FILES_DIR=/app/data/files
WORKDIR /app/api
USER node
EXPOSE 3000 9464
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# API: node dist/server.js · worker: node /app/worker/dist/main.js · migrations: node dist/migrate.js. The API and
# the worker start with their tracing preload (--import): it does nothing unless OTEL_* turn tracing on.
CMD ["node", "--import", "./dist/tracing.js", "dist/server.js"]
