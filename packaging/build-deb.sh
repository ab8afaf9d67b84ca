#!/usr/bin/env bash
# Builds target/debian/redis-rs_<version>_<arch>.deb with cargo-deb (the package is defined once,
# in Cargo.toml's [package.metadata.deb]). Installs cargo-deb if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --locked
cargo build --release --bins
out=target/package
mkdir -p "$out/man" "$out/completions"
for page in man/*.1; do
    gzip -9n < "$page" > "$out/man/$(basename "$page").gz"
done
target/release/redisctl completions bash > "$out/completions/redisctl"
target/release/redisctl completions zsh > "$out/completions/_redisctl"
target/release/redisctl completions fish > "$out/completions/redisctl.fish"
cargo deb --no-build --strip "$@"
