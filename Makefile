# uinet — top-level convenience wrapper around CMake/Ninja/CTest.
#   make demo       install what is missing, build, run `uinet demo`
#   make test       install what is missing, build, run every test label
#   make test-asan  the suite under ASan+UBSan in build-asan/
#   make fuzz       libFuzzer targets with clang in build-fuzz/ (FUZZ_SECONDS each)
#   make sim-long   the simulation suite over many more seeds
#   make bench      every microbenchmark in full (ratios to in-run references), `uinet perf` and sim_loss
JOBS ?= 2
BUILD ?= build
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60
CTEST = ctest --test-dir

.PHONY: all deps deps-test deps-fuzz configure build demo test test-asan fuzz sim-long bench clean

all: build

deps:
	@scripts/install-deps.sh build
deps-test:
	@scripts/install-deps.sh test
deps-fuzz:
	@scripts/install-deps.sh fuzz

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

configure: $(BUILD)/build.ninja

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./$(BUILD)/tools/uinet demo

test: deps-test configure
	cmake --build $(BUILD) -j $(JOBS)
	$(CTEST) $(BUILD) --output-on-failure -j $(JOBS) -LE bench
	$(CTEST) $(BUILD) --output-on-failure -L bench

test-asan: deps-test
	cmake -S . -B build-asan -G Ninja -DUINET_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(CTEST) build-asan --output-on-failure -j $(JOBS) -LE bench

fuzz: deps-fuzz
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DUINET_FUZZ=ON -DUINET_SANITIZE=ON -DUINET_TOOLS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run-all.sh build-fuzz

sim-long: build
	UINET_SIM_SEEDS=20000 $(CTEST) $(BUILD) --output-on-failure -j $(JOBS) -L sim

# Full-length benchmarks: figures only, never pass/fail on a figure. The
# JSON of each benchmark program is kept in $(BUILD)/bench-results/.
bench: build
	@mkdir -p $(BUILD)/bench-results
	@for b in $$(find $(BUILD)/bench -maxdepth 1 -type f -executable -name 'bench_*' | sort); do \
	  n=$$(basename $$b); echo "== $$n"; \
	  $$b --benchmark_out=$(BUILD)/bench-results/$$n.json --benchmark_out_format=json || exit 1; \
	done
	@echo; echo "== microbenchmarks: uinet beside its in-run reference (ratio = uinet time / reference time)"
	@python3 bench/report.py $(BUILD)/bench-results/bench_*.json
	@echo; echo "== uinet perf: default sizes, threads where the scheduler puts them"
	./$(BUILD)/tools/uinet perf --repeat 3
	@echo; echo "== uinet perf: the two threads of each side on one CPU"
	./$(BUILD)/tools/uinet perf --repeat 3 --cpus 0,0
	@echo; echo "== uinet perf: the two threads of each side on two CPUs"
	./$(BUILD)/tools/uinet perf --repeat 3 --cpus 0,1
	@echo; echo "== uinet perf: jumbo frames"
	./$(BUILD)/tools/uinet perf --repeat 3 --mtu 9000 --test bulk
	@echo; echo "== uinet perf: 16 short connections in flight"
	./$(BUILD)/tools/uinet perf --repeat 3 --test crr --crr-conc 16
	@echo; echo "== uinet perf: uinet on a TAP device against the kernel (needs root)"
	./$(BUILD)/tools/uinet perf --repeat 3 --uinet tap
	@echo; echo "== sim_loss: loss recovery on a simulated 100 Mb/s, 20 ms path (virtual time)"
	./$(BUILD)/bench/sim_loss

clean:
	rm -rf build build-asan build-fuzz
