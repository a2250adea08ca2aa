# syntax=docker/dockerfile:1
# tox-triage as a container GitHub Action.
#
# Build stage: the locked release build. Runtime stage: Debian slim with only
# CA certificates (HTTPS to the GitHub API) and git (exit-4 forensics inspect
# the checkout). The container runs as root, Docker's default for actions:
# GitHub mounts the workspace owned by the runner user and root is what can
# write the report and forensics into it.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked \
    && cp target/release/tox-triage /usr/local/bin/tox-triage

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates=20230311* git=1:2.39.* \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/tox-triage /usr/local/bin/tox-triage
ENTRYPOINT ["/usr/local/bin/tox-triage"]
