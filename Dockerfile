# danang-sso container image: a release build on rust:1-bookworm, run on debian:bookworm-slim as a non-root
# user. Templates, static files and the demo directory/clients are compiled into the binary; the example
# config is copied in for reference. Build: docker build -t danang-sso .

FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY templates ./templates
COPY static ./static
COPY config ./config
RUN cargo build --release --locked

FROM debian:bookworm-slim
# ca-certificates: the system roots for ldaps://, rediss:// and back-channel logout to https apps.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/danang-sso --create-home danang-sso \
    && mkdir -p /var/lib/danang-sso/keys /etc/danang-sso \
    && chown danang-sso:danang-sso /var/lib/danang-sso/keys \
    && chmod 0700 /var/lib/danang-sso/keys
COPY --from=build /src/target/release/danang-sso /usr/local/bin/danang-sso
COPY config/danang-sso.example.toml /etc/danang-sso/danang-sso.example.toml
ENV DANANG_SSO__SERVER__LISTEN=0.0.0.0:8080 \
    DANANG_SSO__KEYS__DIR=/var/lib/danang-sso/keys
USER danang-sso
WORKDIR /var/lib/danang-sso
VOLUME ["/var/lib/danang-sso/keys"]
EXPOSE 8080
# /healthz over plain HTTP with bash's /dev/tcp (the slim image has no curl or wget). With TLS on the
# container's own port (tls_cert_file), replace this check or probe through the load balancer instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && grep -q '^HTTP/1.[01] 200' <&3"]
ENTRYPOINT ["danang-sso"]
CMD ["serve"]
