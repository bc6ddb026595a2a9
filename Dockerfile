# Watchpost's container image: built from this repository, run as a user
# without privileges, holding only the proxy's binary and the built app.
# README, "Deploying", says what the test command checks of this file.

# Build: the same script a person runs (scripts/build), on Debian with Rust.
FROM rust:1.95-bookworm AS build
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN scripts/build \
 && mkdir -p /out/data \
 && cp target/release/watchpost /out/watchpost \
 && cp -r dist /out/dist

# Run: glibc and nothing else (no shell, no package manager), as "nonroot".
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/watchpost /usr/local/bin/watchpost
COPY --from=build /out/dist /srv/watchpost/dist
COPY --from=build --chown=65532:65532 /out/data /var/lib/watchpost
ENV WATCHPOST_ADDR=0.0.0.0:8080 \
    WATCHPOST_DIST=/srv/watchpost/dist \
    WATCHPOST_DATA_DIR=/var/lib/watchpost
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/watchpost"]
