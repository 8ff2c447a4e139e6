# The two commands a newcomer needs: `make run` and `make test`. Both install
# what they need (PostgreSQL + PostGIS; Chromium, nginx and PgBouncer for the
# tests) with apt when it is missing.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: run test deps-db deps-browser deps-nginx deps-pgbouncer vendor-leaflet

## run: the service with its embedded database and 12 demo people walking
run: deps-db
	go run ./cmd/whereabouts serve -simulate 12

## test: every test, against real PostgreSQL + PostGIS and headless Chromium
test: deps-db deps-browser deps-nginx deps-pgbouncer
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	go test -race -count=1 -timeout 20m ./...

deps-db:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		$(APT) update && $(APT) install -y --no-install-recommends postgresql; fi
	@v=$$(ls /usr/lib/postgresql | sort -n | tail -n 1); \
	if [ ! -f /usr/share/postgresql/$$v/extension/postgis.control ]; then \
		$(APT) update && $(APT) install -y --no-install-recommends postgresql-$$v-postgis-3; fi

deps-browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		{ $(APT) update && $(APT) install -y --no-install-recommends chromium; }

deps-nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
		{ $(APT) update && $(APT) install -y --no-install-recommends nginx; }

# The tests start their own pgbouncer process; the Debian service is not used.
deps-pgbouncer:
	@command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || \
		{ $(APT) update && $(APT) install -y --no-install-recommends pgbouncer; }

## vendor-leaflet: refresh static/vendor/leaflet from npm
vendor-leaflet:
	static/vendor-leaflet.sh
