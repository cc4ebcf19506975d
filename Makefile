# thumbflow: the two commands that matter are `make run` and `make test`.
# Both install what is missing (scripts/install-deps), then build with CMake presets.

JOBS ?= $(shell nproc)
CTEST_ARGS ?=
DATA ?= thumbflow-data
DEMO_OUT ?= build/demo-thumbnails
CORPUS ?= ../shared/corpus/public

.PHONY: all deps deps-build build debug asan tsan run demo test test-unit test-asan test-asan-all test-tsan test-sanitizers bench soak clean help

all: build

help:
	@echo "make run        install what is missing, build, start thumbflow serve (S3 endpoint, queue, workers, catalog)"
	@echo "make demo       thumbnail the demo images with the command line, no server"
	@echo "make test       install what is missing, build (release and asan), run every test"
	@echo "make build      release build into build/release"
	@echo "make test-asan  unit tests under ASan+UBSan (part of make test)"
	@echo "make test-sanitizers  unit and integration tests under ASan+UBSan, and the queue, worker"
	@echo "                 pool, endpoint, console and HTTP client tests under TSan (docs/sanitizers.md)"
	@echo "make bench      benchmark against vipsthumbnail, sharp, Pillow and the libjpeg-turbo floor"

deps:
	@scripts/install-deps

deps-build:
	@scripts/install-deps --build-only

build: deps-build
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

debug: deps-build
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j $(JOBS)

asan: deps-build
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)

tsan: deps-build
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS)

# The local home in the foreground: S3 endpoint on 127.0.0.1:9000, console on 127.0.0.1:9001,
# data in $(DATA) with the bucket image-processing-local. Ctrl-C stops it cleanly.
run: build
	build/release/src/cli/thumbflow serve --data "$(DATA)"

demo: build
	@scripts/demo "$(CORPUS)" "$(DEMO_OUT)"

# ASan+UBSan unit tests first, then every test of the release build, so the last lines
# printed are the full suite's summary.
test: deps asan build
	$(MAKE) --no-print-directory test-asan
	ctest --preset release -j $(JOBS) $(CTEST_ARGS)

test-unit: build
	ctest --preset release -L unit -j $(JOBS) $(CTEST_ARGS)

SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	TSAN_OPTIONS=suppressions=$(CURDIR)/scripts/tsan.supp:ignore_interceptors_accesses=1:second_deadlock_stack=1

test-asan: asan
	$(SANITIZER_ENV) ctest --preset asan -j $(JOBS) $(CTEST_ARGS)

asan-all: deps-build
	cmake --preset asan-all >/dev/null
	cmake --build --preset asan-all -j $(JOBS)

test-asan-all: deps asan-all
	$(SANITIZER_ENV) ctest --preset asan-all -j $(JOBS) $(CTEST_ARGS)

# ThreadSanitizer over the concurrency-heavy parts (docs/sanitizers.md): any report fails the test.
test-tsan: deps tsan
	$(SANITIZER_ENV) ctest --preset tsan -j $(JOBS) $(CTEST_ARGS)

# Not part of make test: the two builds and the slower runs do not fit CI's 20 minutes.
test-sanitizers: test-asan-all test-tsan

bench: deps build
	bench/run.sh

# Load and soak (issue #9): 10,000 uploads from 16 clients, serve killed with SIGKILL three times
# and restarted; builds nothing, uses $(SOAK_EXE). Quick mode: make soak SOAK_ARGS="--uploads 500 --kills 1"
SOAK_EXE ?= build/release/src/cli/thumbflow
SOAK_ARGS ?=
soak:
	bench/soak.py --exe "$(SOAK_EXE)" $(SOAK_ARGS)

clean:
	rm -rf build

# Fuzzing (docs/fuzzing.md): the fuzz preset (clang-14, libFuzzer, ASan+UBSan), then each
# target in turn for FUZZ_SECONDS. One target: make fuzz FUZZ_TARGETS=sigv4 FUZZ_SECONDS=60
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= all
.PHONY: fuzz fuzz-build fuzz-smoke
fuzz-build: deps-build
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)

fuzz: fuzz-build
	scripts/fuzz-run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	scripts/fuzz-run 30 $(FUZZ_TARGETS)
