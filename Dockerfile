# syntax=docker/dockerfile:1
# GrowDesk's two images from one build: `docker build .` gives the API server,
# `docker build --target sync .` the sync server (imports, maintenance jobs, webhooks).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# Cargo's registry and target directories are build caches, so a source change recompiles the
# workspace's own crates, not every dependency. The binaries are copied out of the cache.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p growdesk-server -p growdesk-sync \
    && cp target/release/growdesk-server target/release/growdesk-sync /usr/local/bin/

# The data directory exists, private to `growdesk`, before it becomes a volume: a new volume
# starts as a copy of it, so the unprivileged user can write there.
FROM debian:bookworm-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/growdesk --create-home growdesk \
    && install -d -m 0700 -o growdesk -g growdesk /var/lib/growdesk/data
WORKDIR /var/lib/growdesk
ENV GROWDESK_DATA_DIR=/var/lib/growdesk/data \
    GROWDESK_DATABASE_URL=sqlite:///var/lib/growdesk/data/growdesk.db \
    GROWDESK_LOG_FORMAT=json
VOLUME /var/lib/growdesk/data
USER growdesk
STOPSIGNAL SIGTERM

FROM runtime AS sync
COPY --from=build /usr/local/bin/growdesk-sync /usr/local/bin/growdesk-sync
ENTRYPOINT ["growdesk-sync"]
CMD ["run"]

# Last, so that a plain `docker build .` gives the server.
FROM runtime AS server
COPY --from=build /usr/local/bin/growdesk-server /usr/local/bin/growdesk-server
ENV GROWDESK_ADDR=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["growdesk-server", "healthcheck"]
ENTRYPOINT ["growdesk-server"]
