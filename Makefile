# Everyday commands. `make test` is the README's test command.
.PHONY: run test lint fmt openapi

run:
	cargo run --release --bin growdesk-server

test:
	bash scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	bash scripts/check-dependencies.sh

fmt:
	cargo fmt --all

# Regenerates the committed OpenAPI document after an API change.
openapi:
	cargo run -q --bin growdesk-server -- openapi > api/openapi.json
