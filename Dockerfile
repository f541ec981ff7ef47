# kindler-bot: slim, non-root, with the CLIs it drives. The Docker socket of the host that runs
# the clusters is mounted at run time (-v /var/run/docker.sock:/var/run/docker.sock).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY templates ./templates
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:22-bookworm-slim
ARG K3D_VERSION=v5.8.3
ARG KIND_VERSION=v0.29.0
ARG KUBECTL_VERSION=v1.31.5
ARG DOCKER_VERSION=28.2.2
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates curl haproxy \
 && curl -fsSL -o /usr/local/bin/k3d "https://github.com/k3d-io/k3d/releases/download/${K3D_VERSION}/k3d-linux-amd64" \
 && curl -fsSL -o /usr/local/bin/kind "https://github.com/kubernetes-sigs/kind/releases/download/${KIND_VERSION}/kind-linux-amd64" \
 && curl -fsSL -o /usr/local/bin/kubectl "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/amd64/kubectl" \
 && curl -fsSL "https://download.docker.com/linux/static/stable/x86_64/docker-${DOCKER_VERSION}.tgz" | tar -xz --strip-components=1 -C /usr/local/bin docker/docker \
 && chmod +x /usr/local/bin/k3d /usr/local/bin/kind /usr/local/bin/kubectl \
 && apt-get purge -y curl && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json app.yml ./
COPY bin ./bin
COPY templates ./templates
COPY config ./config
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 KINDLER_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
HEALTHCHECK CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--max-old-space-size=512", "--max-semi-space-size=4", "bin/start.js"]
