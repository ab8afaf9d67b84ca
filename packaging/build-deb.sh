#!/usr/bin/env bash
# Builds $CARGO_TARGET_DIR/debian/redis-rs_<version>_<arch>.deb and its debug symbols,
# redis-rs-dbgsym_<version>_<arch>.ddeb (files under /usr/lib/debug/.build-id/, as Debian's -dbgsym
# packages), with cargo-deb: the package is defined once, in Cargo.toml's [package.metadata.deb].
# Installs cargo-deb if missing. Prints the paths of the two packages on its last two lines (the
# .ddeb, then the .deb).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --locked
target=${CARGO_TARGET_DIR:-target}
cargo build --release --bins
# The package's version is Cargo.toml's (cargo-deb adds the Debian revision): the man pages say it.
pkgid=$(cargo pkgid)
version=${pkgid##*[#@]}
out=target/package
mkdir -p "$out/man" "$out/completions"
for page in man/*.1; do
    packaging/stamp-man.sh "$version" "$page" | gzip -9n > "$out/man/$(basename "$page").gz"
done
"$target/release/redisctl" completions bash > "$out/completions/redisctl"
"$target/release/redisctl" completions zsh > "$out/completions/_redisctl"
"$target/release/redisctl" completions fish > "$out/completions/redisctl.fish"
rm -f "$target"/debian/redis-rs_*.deb "$target"/debian/redis-rs-dbgsym_*.ddeb
cargo deb --no-build --dbgsym "$@"
deb=$(ls "$target"/debian/redis-rs_*.deb)
ddeb=$(ls "$target"/debian/redis-rs-dbgsym_*.ddeb)

# cargo-deb 3.8's -dbgsym lacks what debhelper gives Debian's: Priority optional (extra is
# obsolete), Depends on the exact package version (its symbols fit no other build), the Build-Ids
# field, and /usr/share/doc/redis-rs-dbgsym as a link to redis-rs's (copyright and changelog).
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
dpkg-deb -R "$ddeb" "$tree/pkg"
ids=$(cd "$tree/pkg/usr/lib/debug/.build-id" && find . -name '*.debug' | sed 's|^\./||; s|/||; s|\.debug$||' | sort | tr '\n' ' ')
sed -i -e 's/^Priority: extra$/Priority: optional/' -e 's/^Recommends: redis-rs /Depends: redis-rs /' \
    -e "/^Description:/i Build-Ids: ${ids% }" "$tree/pkg/DEBIAN/control"
mkdir -p "$tree/pkg/usr/share/doc"
ln -s redis-rs "$tree/pkg/usr/share/doc/redis-rs-dbgsym"
dpkg-deb --root-owner-group -b "$tree/pkg" "$ddeb" >/dev/null
echo "$ddeb"
echo "$deb"
