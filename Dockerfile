# The Quartermaster worker image used by docker-compose.yml.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY bench ./bench
COPY bin ./bin
COPY examples ./examples
RUN npm ci --no-audit --no-fund && npm prune --omit=dev
USER node
# qm worker --metrics-port 9464 serves Prometheus metrics there (see docker-compose.yml).
EXPOSE 9464
ENTRYPOINT ["node", "bin/qm.js"]
CMD ["worker"]
