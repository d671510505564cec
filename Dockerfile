# syntax=docker/dockerfile:1
# memgraph images (docs: README.md "Container images"; build with make image / image-plugin).
#
#   target binding-apiserver (default): Clusterpedia v0.9.1 binding-apiserver with
#                            memgraph.so, on a glibc base (a Go plugin only loads
#                            into a dynamically linked host built from the same
#                            module graph, which is what the build stage does).
#   target plugin:           FROM scratch, only /plugins/memgraph.so, for copying
#                            into a host image built with the same toolchain/flags.
#
# The build context must contain the populated clusterpedia submodule
# (git submodule update --init clusterpedia). Multi-arch builds run the build
# stage on the target platform (QEMU under buildx): cgo plugins do not cross-compile.
ARG GO_IMAGE=golang:1.23.10-bookworm
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${GO_IMAGE} AS build
# The Clusterpedia version this image is tagged with; must be the one in go.mod.
ARG CLUSTERPEDIA_VERSION=v0.9.1
ARG SOURCE_DATE_EPOCH
WORKDIR /src
COPY . .
RUN test -f clusterpedia/staging/src/github.com/clusterpedia-io/api/go.mod \
      || { echo "error: clusterpedia submodule is empty in the build context (git submodule update --init clusterpedia)" >&2; exit 1; }; \
    grep -Eq "^[[:space:]]*github.com/clusterpedia-io/clusterpedia ${CLUSTERPEDIA_VERSION}\$" go.mod \
      || { echo "error: CLUSTERPEDIA_VERSION=${CLUSTERPEDIA_VERSION} is not the version go.mod requires" >&2; exit 1; }
RUN --mount=type=cache,target=/root/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOPATH=/root/go GOFLAGS=-modcacherw make build-plugin build-components

FROM scratch AS plugin
COPY --from=build /src/plugins/memgraph.so /plugins/memgraph.so

FROM ${BASE_IMAGE} AS binding-apiserver
# The work directory must be writable by the user: without --tls-cert-file the
# apiserver writes its self-signed serving cert to ./apiserver.local.config.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/memgraph && chown 65532:65532 /var/lib/memgraph
WORKDIR /var/lib/memgraph
COPY --from=build /src/bin/binding-apiserver /usr/local/bin/binding-apiserver
COPY --from=build /src/plugins/memgraph.so /plugins/memgraph.so
COPY hack/image/config.yaml /etc/memgraph/config.yaml
ENV STORAGE_PLUGINS=/plugins
# Non-root cannot bind 443 in most pods: the apiserver serves on 8443 (Services map 443
# to it); 8790 is memgraph's extension port (server.listenAddress).
EXPOSE 8443 8790
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/binding-apiserver"]
CMD ["--secure-port=8443", "--storage-name=memgraph", "--storage-config=/etc/memgraph/config.yaml"]
