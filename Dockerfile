# kindler-bot: slim, non-root, with the CLIs it drives. The Docker socket of the host that runs
# the clusters is mounted at run time (-v /var/run/docker.sock:/var/run/docker.sock).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
COPY templates ./templates
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:22-bookworm-slim
# The CLIs for the platform the image is built for (BuildKit sets TARGETARCH: amd64, arm64), each
# download checked against the checksum its project publishes; the Docker CLI comes from Docker's
# apt repository, whose signing key is checked against its published fingerprint.
ARG TARGETARCH
ARG K3D_VERSION=v5.8.3
ARG KIND_VERSION=v0.29.0
ARG KUBECTL_VERSION=v1.31.5
ARG DOCKER_CLI_VERSION=5:28.2.2-1~debian.12~bookworm
ARG DOCKER_KEY_FINGERPRINT=9DC858229FC7DD38854AE2D88D81803C0EBFCD88
RUN set -eu; \
 arch="${TARGETARCH:-$(dpkg --print-architecture)}"; \
 apt-get update; \
 apt-get install -y --no-install-recommends git ca-certificates curl gnupg haproxy; \
 cd /tmp; \
 curl -fsSLO "https://github.com/k3d-io/k3d/releases/download/${K3D_VERSION}/k3d-linux-${arch}"; \
 curl -fsSL -o k3d.sums "https://github.com/k3d-io/k3d/releases/download/${K3D_VERSION}/checksums.txt"; \
 echo "$(grep "k3d-linux-${arch}\$" k3d.sums | cut -d' ' -f1)  k3d-linux-${arch}" | sha256sum -c -; \
 curl -fsSLO "https://github.com/kubernetes-sigs/kind/releases/download/${KIND_VERSION}/kind-linux-${arch}"; \
 curl -fsSL -o kind.sum "https://github.com/kubernetes-sigs/kind/releases/download/${KIND_VERSION}/kind-linux-${arch}.sha256sum"; \
 echo "$(cut -d' ' -f1 kind.sum)  kind-linux-${arch}" | sha256sum -c -; \
 curl -fsSLO "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${arch}/kubectl"; \
 curl -fsSL -o kubectl.sum "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${arch}/kubectl.sha256"; \
 echo "$(cat kubectl.sum)  kubectl" | sha256sum -c -; \
 install -m 0755 "k3d-linux-${arch}" /usr/local/bin/k3d; \
 install -m 0755 "kind-linux-${arch}" /usr/local/bin/kind; \
 install -m 0755 kubectl /usr/local/bin/kubectl; \
 curl -fsSL -o docker.asc https://download.docker.com/linux/debian/gpg; \
 gpg --show-keys --with-colons docker.asc | grep -q "^fpr:::::::::${DOCKER_KEY_FINGERPRINT}:"; \
 install -m 0755 -d /etc/apt/keyrings; \
 gpg --dearmor -o /etc/apt/keyrings/docker.gpg docker.asc; \
 echo "deb [arch=${arch} signed-by=/etc/apt/keyrings/docker.gpg] https://download.docker.com/linux/debian bookworm stable" > /etc/apt/sources.list.d/docker.list; \
 apt-get update; \
 apt-get install -y --no-install-recommends "docker-ce-cli=${DOCKER_CLI_VERSION}"; \
 rm -f /tmp/k3d* /tmp/kind* /tmp/kubectl* /tmp/docker.asc; \
 apt-get purge -y curl gnupg; apt-get autoremove -y; rm -rf /var/lib/apt/lists/*
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
