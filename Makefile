# hordebot — the commands a newcomer needs. `make help` lists them.
GO        ?= go
DATA      ?= ./data
CONFIG    ?=
LISTEN    ?= 127.0.0.1:7001
FUZZTIME  ?= 10s
BIN       := bin

# The packages whose tests open a store: `make test-postgres` runs them on PostgreSQL.
PG_PACKAGES ?= ./store/... ./kudos/... ./horde/ ./horde/api/ ./horde/web/

.PHONY: help build test test-postgres check fuzz fuzz-short bench demo run api soak soak-ci clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/hordebot and bin/hordeworker
	@echo "== building bin/hordebot and bin/hordeworker (a cold machine downloads and compiles modules first)"
	$(GO) build -o $(BIN)/ ./cmd/...

test: ## run every test with the race detector (what CI runs)
	@echo "== compiling every package with the race detector, then testing (on a cold machine the first results take a few minutes)"
	$(GO) test -race -count=1 -timeout 30m ./...

test-postgres: ## run the store-using tests on PostgreSQL (needs HORDEBOT_TEST_POSTGRES_URL: scripts/pg-test-cluster.sh)
	@if [ -z "$$HORDEBOT_TEST_POSTGRES_URL" ]; then \
		echo "== test-postgres skipped: HORDEBOT_TEST_POSTGRES_URL is not set (start a throwaway server with: eval \"\$$(scripts/pg-test-cluster.sh start)\")"; \
	else \
		echo "== the store-using tests on PostgreSQL ($(PG_PACKAGES))"; \
		HORDEBOT_TEST_ENGINE=postgres $(GO) test -race -count=1 -timeout 30m $(PG_PACKAGES) && \
		echo "== the multi-process test: three api and one run process on one schema, each killed with SIGKILL" && \
		$(GO) test -race -count=1 -run 'TestMultiProcess' ./cmd/hordebot/; \
	fi

check: ## gofmt, go vet
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fuzz: ## run each fuzz target for FUZZTIME (default 10s)
	./scripts/fuzz.sh $(FUZZTIME)

fuzz-short: ## run each fuzz target briefly (CI)
	./scripts/fuzz.sh 3s

bench: ## print each performance figure beside the limit it is measured against (HTTP, SQLite, montage, memory, abuse)
	./scripts/bench.sh

demo: ## fake Discord + bot + embedded worker + scripted scenario; results in ./demo-out
	@echo "== building hordebot (a minute on a cold machine), then playing the demo"
	$(GO) run ./cmd/hordebot demo --out ./demo-out

run: ## run the real bot (needs DISCORD_TOKEN in the environment)
	@test -n "$$DISCORD_TOKEN" || { echo "set DISCORD_TOKEN (see README.md)"; exit 1; }
	$(GO) run ./cmd/hordebot run --data $(DATA) $(if $(CONFIG),--config $(CONFIG))

api: ## run a private horde (scheduler + AI Horde v2 API, no Discord)
	$(GO) run ./cmd/hordebot api --listen $(LISTEN) --data $(DATA) $(if $(CONFIG),--config $(CONFIG))

soak: ## 10-minute soak test on loopback
	HORDEBOT_SOAK=10m $(GO) test -count=1 -run '^TestSoak$$' -timeout 20m -v ./cmd/hordebot/

soak-ci: ## 60-second soak test (CI)
	HORDEBOT_SOAK=60s $(GO) test -count=1 -run '^TestSoak$$' -timeout 10m -v ./cmd/hordebot/

clean: ## remove build output and demo output
	rm -rf $(BIN) ./demo-out
