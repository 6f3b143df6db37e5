# Everyday commands. `make test` is the README's test command.
.PHONY: build run test lint fmt openapi help

# Both release binaries, growdesk-server and growdesk-sync, into target/release/.
build:
	cargo build --release --locked

# Builds and starts the server (SQLite under ./data, nothing to configure).
run:
	cargo run --release --bin growdesk-server

# Every test, on SQLite and PostgreSQL (the README's test command).
test:
	bash scripts/test.sh

# Formatting, clippy and the dependency policy, as CI checks them.
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	bash scripts/check-dependencies.sh

# Formats the code.
fmt:
	cargo fmt --all

# Regenerates the committed OpenAPI document after an API change.
openapi:
	cargo run -q --bin growdesk-server -- openapi > api/openapi.json

# Lists these targets with the comment above each.
help:
	@awk '/^# /{doc=substr($$0,3)} /^[a-z]+:/{printf "  make %-8s %s\n", substr($$1,1,length($$1)-1), doc; doc=""}' Makefile
