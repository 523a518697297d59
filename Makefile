# Switchboard. `make help` lists the targets.

GO       ?= go
BIN      := bin/switchboard
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 30s
# Pure Go (modernc SQLite, pgx): the binary is static and fits a FROM scratch image.
export CGO_ENABLED ?= 0

.DEFAULT_GOAL := help
.PHONY: help build run test client-deps test-race bench fuzz interop lint fmt tidy

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build bin/switchboard (static, no cgo)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/switchboard

run: build ## Start `switchboard serve` (./switchboard.yaml if present, else defaults: SQLite in ./data, 127.0.0.1:8008)
	./$(BIN) serve

test: client-deps ## Run every test (PostgreSQL and Node.js tests skip when those are missing; with CI=true they fail instead)
	$(GO) test ./...

# The matrix-js-sdk suite's packages, installed from the lock file when npm is there.
client-deps:
	@if command -v npm >/dev/null 2>&1 && [ ! -d tests/clients/node_modules/matrix-js-sdk ]; then \
		cd tests/clients && npm ci --no-audit --no-fund; fi

test-race: ## Run every test with the race detector (needs cgo)
	CGO_ENABLED=1 $(GO) test -race ./...

bench: ## Run the benchmarks, then the homeserver side by side with Dendrite (SKIP_DENDRITE=1 to skip it)
	$(GO) test -run '^$$' -bench . -benchmem ./...
	scripts/bench-homeserver.sh

fuzz: ## Run each fuzz target for FUZZTIME (default 30s)
	@set -e; for file in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
		dir=$$(dirname $$file); \
		for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$file); do \
			echo "fuzz $$dir $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$dir; \
		done; \
	done

interop: ## Run the bridge scenarios against Dendrite 0.15.2 (built into a temp dir on first use)
	DENDRITE_BIN=$$(scripts/build-dendrite.sh) SWITCHBOARD_INTEROP=1 $(GO) test -count=1 -run '/dendrite/' ./tests/e2e/

lint: ## gofmt check, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.6.1 ./...

fmt: ## Format the code
	gofmt -w $$(git ls-files '*.go')

tidy: ## Tidy go.mod and go.sum
	$(GO) mod tidy
