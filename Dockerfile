# syntax=docker/dockerfile:1
# Whereabouts: a static Go binary on a slim Debian base, run as a non-root user.
# Build: docker build -t whereabouts .   (docker-compose.yml does this for you)

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Dependencies first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/whereabouts ./cmd/whereabouts

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin whereabouts
COPY --from=build /out/whereabouts /usr/local/bin/whereabouts
USER whereabouts:whereabouts
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/whereabouts"]
CMD ["serve"]
