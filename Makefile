# The README's test command is `go test ./...`; these targets add what CI runs.
GO ?= go

.PHONY: test ci race fuzz bench lint build

build:
	$(GO) build -o bin/allot ./cmd/allot

test:
	$(GO) test -count=1 ./...

# What CI runs: vet, gofmt, staticcheck, the tests (PostgreSQL required),
# the tests again under the race detector, and short fuzzing.
ci:
	CI=true bash .ci/run

# The race detector needs cgo and a C compiler.
race:
	$(GO) test -race -count=1 ./...

# The same targets and counts as CI (.ci/fuzz-targets).
fuzz:
	bash .ci/fuzz 30000

# staticcheck: go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint:
	$(GO) vet ./...
	test -z "$$(gofmt -l .)"
	staticcheck ./...

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...
