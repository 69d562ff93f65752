# mlregistry: the KX ML Registry as a native kdb+ extension.
#   make demo      build, then run the walkthrough through the test host (no q needed)
#   make test      install the test tools and run every test (what CI runs)
#   make install   copy the extension to $(DEST) (default $QHOME/mlregistry)
#   make bench     benchmarks (figures and ratios)

QHOME ?= $(HOME)/q
DEST ?= $(QHOME)/mlregistry

.PHONY: build demo test install bench clean

build:
	cargo build --release

demo:
	scripts/test-env.sh kx
	cargo build
	cargo test --test host --no-run
	MLREGISTRY_VERBOSE=1 cargo test --test host -- --exact walkthrough::walkthrough \
	  --nocapture --test-threads=1

test:
	scripts/test.sh

install: build
	mkdir -p $(DEST)/q $(DEST)/config
	cp init.q $(DEST)/
	cp q/*.q q/*.py $(DEST)/q/
	cp -n config/cloud.json $(DEST)/config/ 2>/dev/null || true
	cp target/release/libmlregistry.so $(DEST)/
	@echo "installed in $(DEST): start q with  q $(DEST)/init.q"

bench:
	cargo run --release --example bench

clean:
	cargo clean
