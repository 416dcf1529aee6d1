# syntax=docker/dockerfile:1
# One image for the five services; CMD picks the service:
#   docker build -t kube-grpc-apiserver .
#   docker run kube-grpc-apiserver services/storage/main.ts --help
# Node runs the .ts sources directly (type stripping), so there is no compile step: the build
# stage only generates lib/gen from proto/, which needs the dev dependencies.

ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: proto types -------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the only install scripts are the `node` devDependency's (it would download a
# second Node.js; the image has one) and a protobufjs version notice.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY proto/ proto/
# The Makefile's lib/gen/.stamp recipe, with the image's node; test/deploy.test.ts keeps the two
# identical.
RUN node node_modules/.bin/proto-loader-gen-types --longs String --enums String --defaults --oneofs \
      --includeComments --grpcLib @grpc/grpc-js -I proto -O lib/gen \
      apiserver/v1/meta.proto apiserver/v1/storage.proto apiserver/v1/auth.proto apiserver/v1/admission.proto \
      apiserver/v1/watch.proto apiserver/v1/resources.proto apiserver/v1/typed.proto google/rpc/status.proto \
 && find lib/gen -name '*.ts' -exec sed -i -E "s#from '(\.{1,2}/[^']*)'#from '\1.ts'#" {} +

# --- production dependencies ----------------------------------------------------------------
# A stage of its own so the runtime image holds node_modules without npm's cache or the dev tree.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime --------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
WORKDIR /app
# package.json is needed at run time: its "type": "module" makes Node load the .ts files as ES modules.
COPY package.json ./
COPY --from=deps /app/node_modules/ node_modules/
COPY proto/ proto/
COPY lib/ lib/
COPY services/ services/
COPY scripts/health-probe.ts scripts/
COPY --from=build /app/lib/gen/ lib/gen/
# The state directory of auth and gateway (pki/, tokens.csv, admin.kubeconfig), owned by the
# runtime user: a named volume mounted here starts with this ownership, so it is writable without
# running as root.
RUN mkdir -p /var/lib/kube-grpc-apiserver && chown 1000:1000 /var/lib/kube-grpc-apiserver
ENV DATA_DIR=/var/lib/kube-grpc-apiserver
# The base image's `node` user, by number: Kubernetes can only verify runAsNonRoot for a numeric
# user. The application files stay root-owned, so the process cannot modify its own code.
USER 1000:1000
# gateway: 6443 Kubernetes REST (HTTPS), 50051 typed gRPC; storage, auth, admission, watch:
# 50061-50064 (internal gRPC); every service: 9090, the plaintext monitoring port (METRICS_LISTEN).
EXPOSE 6443 50051 50061 50062 50063 50064 9090
# node as PID 1 is enough: every service handles SIGTERM itself (drain, then exit) and starts no
# child processes to reap.
ENTRYPOINT ["node"]
CMD ["services/gateway/main.ts"]
