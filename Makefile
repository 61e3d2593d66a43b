# The README's two commands: `make run` and `make test`. Both install the
# Debian packages they need first (skipping what is there).
GO ?= go
ARGS ?=

.PHONY: deps test-deps build run test bench fmt

deps:
	.ci/deps.sh run

test-deps:
	.ci/deps.sh test

build: deps
	$(GO) build -o bin/segcast .

# Opens the window on the built-in sync pattern; `make run ARGS="clip.y4m"`
# loads files instead.
run: build
	./bin/segcast $(ARGS)

test: test-deps
	.ci/test.sh

# Benchmarks behind bench/README.md (many minutes; not part of `make test`).
# bench/README.md gives the command behind each number.
bench: test-deps
	$(GO) test -run '^$$' -bench . -benchtime 3x ./engine/ ./rtc/...
	$(GO) test -tags smoke -run '^$$' -bench PreviewXvfb -benchtime 1x ./ui/

fmt:
	gofmt -w $$(git ls-files '*.go')
