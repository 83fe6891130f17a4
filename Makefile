# The README's test command is `go test ./...`; these targets add what CI runs.
GO ?= go

.PHONY: test ci race fuzz bench lint build image

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

# The container image (Containerfile): a static binary built here, copied
# onto scratch, so no base image is pulled. IMAGE_ROOT is the build context.
# With docker: make image IMAGE_BUILD="docker build".
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE ?= allot:latest
IMAGE_ROOT ?= bin/image
PODMAN ?= podman
IMAGE_BUILD ?= $(PODMAN) build --format docker

image:
	rm -rf $(IMAGE_ROOT)/allot $(IMAGE_ROOT)/data
	mkdir -p $(IMAGE_ROOT)/data
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(IMAGE_ROOT)/allot ./cmd/allot
	$(IMAGE_BUILD) --build-arg VERSION=$(VERSION) -f Containerfile -t $(IMAGE) $(IMAGE_ROOT)
