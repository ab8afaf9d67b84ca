//! What the .deb is made of, checked without building it: the package metadata in Cargo.toml, the
//! maintainer scripts, and the man pages' version stamping (packaging/stamp-man.sh) together with
//! packaging/check-deb.sh (the built .deb's man pages name its version; the -dbgsym holds each
//! binary's debug info by build ID), run here on small packages built with dpkg-deb.
//! scripts/test.sh runs check-deb.sh on the real .deb and .ddeb.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo_file(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The `[package.metadata.deb]` section of Cargo.toml, without comments.
fn deb_metadata() -> String {
    let cargo = read("Cargo.toml");
    let start = cargo.find("[package.metadata.deb]").expect("no [package.metadata.deb]");
    let rest = &cargo[start + 1..];
    let end = rest.find("\n[").map_or(rest.len(), |i| i + 1);
    rest[..end].lines().filter(|l| !l.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n")
}

fn metadata_value(key: &str) -> String {
    let meta = deb_metadata();
    let line = meta
        .lines()
        .find(|l| l.split('=').next().is_some_and(|k| k.trim() == key))
        .unwrap_or_else(|| panic!("no {key} in [package.metadata.deb]"));
    line.split_once('=').unwrap().1.trim().to_string()
}

/// The inline table of `systemd-units` whose unit-name is NAME.
fn unit_options(name: &str) -> String {
    let meta = deb_metadata();
    meta.lines()
        .find(|l| l.contains(&format!("unit-name = \"{name}\"")))
        .unwrap_or_else(|| panic!("no systemd-units entry for {name}"))
        .to_string()
}

#[test]
fn the_package_depends_on_redis_tools() {
    // redis-cli comes from redis-tools, and the dependency makes `apt purge redis-tools` (whose
    // purge deletes /var/lib/redis and the redis user) remove redis-rs, and stop it, first.
    let depends = metadata_value("depends");
    assert!(depends.split(',').any(|d| d.trim().trim_matches('"') == "redis-tools"), "depends = {depends}");
    let conflicts = metadata_value("conflicts");
    assert!(!conflicts.contains("redis-tools"), "conflicts = {conflicts}");
}

#[test]
fn sentinel_is_installed_disabled_and_upgrades_keep_the_admins_choice() {
    let sentinel = unit_options("redis-sentinel-rs");
    for want in ["enable = false", "start = false", "restart-after-upgrade = true"] {
        assert!(sentinel.contains(want), "redis-sentinel-rs: {want} missing in {sentinel}");
    }
    // The server is enabled on installation and started by debian/postinst on a first installation
    // only; an upgrade try-restarts it, so a server the admin stopped stays stopped.
    let server = unit_options("redis-server-rs");
    for want in ["enable = true", "start = false", "restart-after-upgrade = true"] {
        assert!(server.contains(want), "redis-server-rs: {want} missing in {server}");
    }
    let preinst = read("debian/preinst");
    let postinst = read("debian/postinst");
    assert!(preinst.contains("if [ \"$1\" = \"install\" ]") && preinst.contains("start-after-install"));
    let debhelper = postinst.find("#DEBHELPER#").expect("postinst without #DEBHELPER#");
    let start = postinst.find("deb-systemd-invoke start redis-server-rs").expect("postinst never starts the server");
    assert!(start > debhelper, "the server must be started after the snippets that enable it");
    assert!(!postinst.contains("redis-sentinel-rs"), "postinst must not start or enable Sentinel");
}

#[test]
fn debug_symbols_go_to_a_dbgsym_package() {
    assert_eq!(metadata_value("dbgsym"), "true");
    let build = read("packaging/build-deb.sh");
    assert!(!build.contains("--strip"), "--strip would throw the debug symbols away");
    let cargo = read("Cargo.toml");
    let release = &cargo[cargo.find("[profile.release]").expect("no [profile.release]")..];
    let debug = release.lines().find(|l| l.starts_with("debug")).expect("[profile.release] has no debug setting");
    assert!(!debug.contains("false") && !debug.contains("= 0"), "{debug}: no symbols to ship");
}

#[test]
fn purge_leaves_the_user_and_directories_to_redis_tools() {
    let postrm = read("debian/postrm");
    for tool in ["deluser", "userdel", "rm -rf"] {
        assert!(!postrm.contains(tool), "debian/postrm runs {tool}: redis-tools owns the user and its directories");
    }
}

fn man_pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(repo_file("man"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "1"))
        .collect();
    pages.sort();
    assert!(pages.len() >= 3, "{pages:?}");
    pages
}

fn th_line(text: &str) -> String {
    text.lines().find(|l| l.starts_with(".TH ")).unwrap_or_default().to_string()
}

#[test]
fn man_page_sources_carry_no_version() {
    // The version is stamped at build time from Cargo.toml's; a number here would go stale.
    for page in man_pages() {
        let th = th_line(&std::fs::read_to_string(&page).unwrap());
        assert!(th.contains(" \"redis-rs\" "), "{}: {th}", page.display());
    }
}

fn stamp(version: &str, page: &Path) -> std::process::Output {
    Command::new(repo_file("packaging/stamp-man.sh")).arg(version).arg(page).output().expect("stamp-man.sh")
}

#[test]
fn stamped_man_pages_name_the_version_and_stay_valid_groff() {
    let dir = tempfile::tempdir().unwrap();
    for page in man_pages() {
        let out = stamp("7.3.1~rc2", &page);
        assert!(out.status.success(), "{}: {}", page.display(), String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let th = th_line(&text);
        assert!(th.contains(" \"redis-rs 7.3.1~rc2\" "), "{}: {th}", page.display());
        // Only the .TH line changes.
        let source = std::fs::read_to_string(&page).unwrap();
        assert_eq!(text.lines().count(), source.lines().count());
        let stamped = dir.path().join(page.file_name().unwrap());
        std::fs::write(&stamped, &text).unwrap();
        let groff = Command::new("groff").args(["-man", "-ww", "-z"]).arg(&stamped).output().expect("groff");
        assert!(
            groff.status.success() && groff.stderr.is_empty(),
            "{}: {}",
            page.display(),
            String::from_utf8_lossy(&groff.stderr)
        );
    }
    // A page without the line to stamp, or a version that is not one, is refused.
    let readme = repo_file("README.md");
    assert!(!stamp("1.0.0", &readme).status.success());
    assert!(!stamp("1.0\"; rm", &man_pages()[0]).status.success());
}

/// A .deb of version VERSION shipping the first man page stamped with MAN_VERSION, and FILES
/// (path in the package, source).
fn small_deb(dir: &Path, version: &str, man_version: &str, files: &[(&str, &Path)]) -> PathBuf {
    let tree = tempfile::tempdir_in(dir).unwrap().keep();
    let man_dir = tree.join("usr/share/man/man1");
    std::fs::create_dir_all(&man_dir).unwrap();
    let page = &man_pages()[0];
    let out = stamp(man_version, page);
    assert!(out.status.success());
    let gz = man_dir.join(format!("{}.gz", page.file_name().unwrap().to_string_lossy()));
    let mut gzip = Command::new("gzip")
        .arg("-9n")
        .stdin(std::process::Stdio::piped())
        .stdout(std::fs::File::create(&gz).unwrap())
        .spawn()
        .unwrap();
    std::io::Write::write_all(gzip.stdin.as_mut().unwrap(), &out.stdout).unwrap();
    drop(gzip.stdin.take());
    assert!(gzip.wait().unwrap().success());
    package(dir, &tree, "redis-rs", version, files)
}

/// Builds package NAME of VERSION from TREE plus FILES with dpkg-deb.
fn package(dir: &Path, tree: &Path, name: &str, version: &str, files: &[(&str, &Path)]) -> PathBuf {
    std::fs::create_dir_all(tree.join("DEBIAN")).unwrap();
    let control = format!(
        "Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: t <t@example.invalid>\nDescription: t\n"
    );
    std::fs::write(tree.join("DEBIAN/control"), control).unwrap();
    for (dest, src) in files {
        let dest = tree.join(dest.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(src, &dest).unwrap();
    }
    let deb = tempfile::Builder::new().suffix(".deb").tempfile_in(dir).unwrap().into_temp_path().keep().unwrap();
    let built = Command::new("dpkg-deb").args(["--root-owner-group", "-b"]).arg(tree).arg(&deb).output().unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    deb
}

fn check_deb(args: &[&Path]) -> std::process::Output {
    Command::new(repo_file("packaging/check-deb.sh")).args(args).output().expect("check-deb.sh")
}

#[test]
fn check_deb_compares_the_man_pages_version_with_the_packages() {
    let dir = tempfile::tempdir().unwrap();
    let agree = check_deb(&[&small_deb(dir.path(), "1:2.5.0-3", "2.5.0", &[])]);
    assert!(agree.status.success(), "{}", String::from_utf8_lossy(&agree.stderr));
    let differ = check_deb(&[&small_deb(dir.path(), "2.5.1-1", "2.5.0", &[])]);
    assert!(!differ.status.success());
    assert!(String::from_utf8_lossy(&differ.stderr).contains("redis-rs 2.5.0"));
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn check_deb_finds_each_binarys_debug_symbols_by_build_id() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("hello.c"), "int main(void) { return 0; }\n").unwrap();
    run(Command::new("cc").args(["-g", "-Wl,--build-id", "-o"]).arg(d.join("hello")).arg(d.join("hello.c")));
    run(Command::new("objcopy").arg("--only-keep-debug").arg(d.join("hello")).arg(d.join("hello.debug")));
    run(Command::new("objcopy").arg("--strip-debug").arg(d.join("hello")).arg(d.join("hello.stripped")));
    let notes = Command::new("readelf").arg("-n").arg(d.join("hello")).output().unwrap();
    let notes = String::from_utf8_lossy(&notes.stdout);
    let id = notes.lines().find_map(|l| l.trim().strip_prefix("Build ID: ")).expect("no build ID").to_string();
    let debug_path = format!("/usr/lib/debug/.build-id/{}/{}.debug", &id[..2], &id[2..]);

    let stripped = d.join("hello.stripped");
    let unstripped = d.join("hello");
    let debug = d.join("hello.debug");
    let deb = small_deb(d, "3.0.0-1", "3.0.0", &[("/usr/bin/hello", &stripped)]);
    let ddeb =
        package(d, &tempfile::tempdir_in(d).unwrap().keep(), "redis-rs-dbgsym", "3.0.0-1", &[(&debug_path, &debug)]);
    let good = check_deb(&[&deb, &ddeb]);
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));

    let empty_ddeb = package(d, &tempfile::tempdir_in(d).unwrap().keep(), "redis-rs-dbgsym", "3.0.0-1", &[]);
    let missing = check_deb(&[&deb, &empty_ddeb]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains(&format!("no debug info for build ID {id}")));

    let fat_deb = small_deb(d, "3.0.0-1", "3.0.0", &[("/usr/bin/hello", &unstripped)]);
    let fat = check_deb(&[&fat_deb, &ddeb]);
    assert!(!fat.status.success());
    assert!(String::from_utf8_lossy(&fat.stderr).contains("still carries its debug info"));

    let other_version =
        package(d, &tempfile::tempdir_in(d).unwrap().keep(), "redis-rs-dbgsym", "3.0.1-1", &[(&debug_path, &debug)]);
    assert!(!check_deb(&[&deb, &other_version]).status.success());
}
