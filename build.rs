//! Compiles the Lua libraries Redis 7.0 gives scripts (cjson, cmsgpack, struct, bit) from Redis's
//! own C sources in deps/lua-libs, so their number formatting, limits and error texts are Redis's
//! byte for byte. They are built against the headers of the Lua 5.1 that mlua-sys vendors and
//! links (its `links = "lua"` metadata arrives here as DEP_LUA_INCLUDE).

use std::env;
use std::path::PathBuf;

const SOURCES: &[&str] = &["lua_cjson.c", "strbuf.c", "fpconv.c", "lua_cmsgpack.c", "lua_struct.c", "lua_bit.c"];

fn main() {
    let dir = PathBuf::from("deps/lua-libs");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", dir.display());
    let include = match env::var("DEP_LUA_INCLUDE") {
        Ok(include) => include,
        Err(_) => panic!("DEP_LUA_INCLUDE is unset: the mlua-sys dependency (vendored) must be present"),
    };
    let mut build = cc::Build::new();
    // the defines of Redis's deps/Makefile for these sources
    build.include(&include).include(&dir).warnings(false).define("ENABLE_CJSON_GLOBAL", None).define("LUA_ANSI", None);
    for source in SOURCES {
        build.file(dir.join(source));
    }
    build.compile("redis_lua_libs");
}
