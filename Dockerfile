# growdesk-server: the API server. Build: docker build -t growdesk-server .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin growdesk-server

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/growdesk --create-home growdesk
COPY --from=build /src/target/release/growdesk-server /usr/local/bin/growdesk-server
USER growdesk
WORKDIR /var/lib/growdesk
ENV GROWDESK_ADDR=0.0.0.0:8080 \
    GROWDESK_DATA_DIR=/var/lib/growdesk/data \
    GROWDESK_DATABASE_URL=sqlite:///var/lib/growdesk/data/growdesk.db \
    GROWDESK_LOG_FORMAT=json
VOLUME /var/lib/growdesk/data
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["growdesk-server"]
