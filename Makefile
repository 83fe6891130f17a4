# The README's test command is `go test ./...`; these targets add what CI runs.
GO ?= go

.PHONY: test ci race fuzz bench lint build

build:
	$(GO) build -o bin/allot ./cmd/allot

test:
	$(GO) test -count=1 ./...

# What CI runs: vet, gofmt, the tests (PostgreSQL required) and short fuzzing.
ci:
	CI=true bash .ci/run

# The race detector needs cgo and a C compiler.
race:
	$(GO) test -race -count=1 ./...

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzVerify -fuzztime=100000x ./sign
	$(GO) test -run='^$$' -fuzz=FuzzParseAuthorization -fuzztime=100000x ./sign
	$(GO) test -run='^$$' -fuzz=FuzzParseResourceQuery -fuzztime=100000x ./api

lint:
	$(GO) vet ./...
	test -z "$$(gofmt -l .)"

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...
