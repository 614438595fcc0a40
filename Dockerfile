# One image for every Fairway service: `node dist/services/<name>/src/main.js`.
#   docker build -t fairway .
#   docker run fairway node dist/services/edge/src/main.js
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/ libs/
COPY services/ services/
RUN npm ci --no-audit --no-fund --loglevel=error
COPY protos/ protos/
COPY scripts/ scripts/
COPY tsconfig.base.json tsconfig.build.json tsconfig.json ./
RUN node scripts/build.cjs --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    METRICS_HOST=0.0.0.0 \
    NODE_OPTIONS="--enable-source-maps --require /app/dist/libs/telemetry/src/register.js"
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json ./
COPY --from=build --chown=node:node /app/node_modules/ node_modules/
COPY --from=build --chown=node:node /app/dist/ dist/
# infra.cjs (the one-shot init: migrations, topics, demo tenants) requires the TypeScript libs
# through @swc-node/register, a dev dependency: so the dev dependencies stay in the image.
COPY --from=build --chown=node:node /app/scripts/ scripts/
COPY --from=build --chown=node:node /app/libs/ libs/
COPY --from=build --chown=node:node /app/tsconfig.base.json /app/tsconfig.json ./
USER node
CMD ["node", "dist/services/edge/src/main.js"]
