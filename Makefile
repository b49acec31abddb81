# ClientIQ's developer commands. `make help` lists them.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/clientiq/clientiq/internal/buildinfo.version=$(VERSION)
GOFILES    = $(shell git ls-files '*.go' 2>/dev/null; git ls-files --others --exclude-standard '*.go' 2>/dev/null)
GENERATED := ent graph migrations

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: run
run: build ## set up everything (PostgreSQL, database, demo data) and serve ClientIQ
	@bash scripts/run.sh

.PHONY: build
build: ## build bin/clientiq
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/clientiq ./cmd/clientiq

.PHONY: test
test: services fmt-check vet verify-generate ## check formatting, vet, generated code, then run every test against real PostgreSQL and Redis
	$(GO) test -race -count=1 -timeout 20m ./...

.PHONY: bench
bench: services ## run the Go benchmarks and the load scenarios (≤ 20 min); results in bench/results/
	@bash scripts/bench.sh

.PHONY: bench-load
bench-load: services ## run only the load scenarios: make bench-load ARGS="--tenants 10000 --projects 10 --items 10"
	$(GO) run ./cmd/clientiq-bench $(ARGS)

.PHONY: services
services: ## make sure PostgreSQL and Redis run (installs them when missing and root)
	@bash scripts/services.sh all

.PHONY: fmt-check
fmt-check: ## fail when a Go file is not gofmt-formatted
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: vet
vet: ## go vet
	$(GO) vet ./...

.PHONY: generate
generate: ## regenerate ent and gqlgen code
	$(GO) generate ./...

.PHONY: verify-generate
verify-generate: ## fail when regenerating changes the generated code (ent, gqlgen)
	@before=$$(find $(GENERATED) go.mod go.sum -type f | sort | xargs sha256sum | sha256sum); \
	$(MAKE) --no-print-directory generate >/dev/null; \
	after=$$(find $(GENERATED) go.mod go.sum -type f | sort | xargs sha256sum | sha256sum); \
	if [ "$$before" != "$$after" ]; then \
		echo "generated code was out of date; 'make generate' has now updated it: review and commit:"; \
		git status --porcelain -- $(GENERATED) go.mod go.sum; exit 1; fi

.PHONY: migration
migration: ## write new migration files from the ent schemas: make migration NAME=add_widgets
	@[ -n "$(NAME)" ] || { echo "usage: make migration NAME=short_name"; exit 2; }
	$(GO) run ./ent/migrate/main.go $(NAME)

.PHONY: clean
clean: ## remove build output (keeps .data/)
	rm -rf bin
