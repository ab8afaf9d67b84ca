//! Differential tests against Debian's real Redis 7.0: the geo commands (GEOADD, GEOPOS, GEODIST,
//! GEOHASH, GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the _RO forms) and LOLWUT,
//! in RESP2 and RESP3, byte for byte: every error and the argument it comes from, distances and
//! coordinates to the last digit, the order of unsorted results and of equal distances, what a
//! store leaves, the dirty counter, keyspace notifications and the write stream. Seeded random
//! points and searches cover shapes, units, counts and both sorted set encodings.

use crate::common::{Client, Reply};
use crate::differential_propagation::Differ;
use crate::differential_support::*;

/// The counters a command moves: dirty (rdb_changes_since_last_save), keyspace hits and misses.
fn counters(c: &mut Client) -> [i64; 3] {
    let info = String::from_utf8_lossy(&c.cmd(&["INFO", "all"])).into_owned();
    let field = |name: &str| -> i64 {
        let line = info.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')));
        line.unwrap_or_else(|| panic!("{name} in INFO")).trim().parse().expect("a number")
    };
    [field("rdb_changes_since_last_save"), field("keyspace_hits"), field("keyspace_misses")]
}

/// Runs `check` and requires the same changes of the dirty, hit and miss counters on both.
fn check_dirty(p: &mut Pair, args: &[&str]) -> Vec<u8> {
    let before = (counters(&mut p.ours), counters(&mut p.real));
    let r = p.check(args);
    let (after_ours, after_real) = (counters(&mut p.ours), counters(&mut p.real));
    let delta =
        |a: [i64; 3], b: [i64; 3]| format!("dirty +{} hits +{} misses +{}", a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    let (o, real) = (delta(after_ours, before.0), delta(after_real, before.1));
    p.compare(&format!("counters after {args:?}"), o.as_bytes(), real.as_bytes());
    r
}

const SICILY: &[&str] = &["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"];

#[test]
fn geo_commands_and_their_errors() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        check_dirty(p, SICILY);
        for args in [
            &["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"][..],
            // GEOADD's options, and its errors before anything is added.
            &["GEOADD", "Sicily", "NX", "13.361389", "38.115556", "Palermo", "1", "2", "new"],
            &["GEOADD", "Sicily", "XX", "CH", "13", "38", "Palermo", "1", "2", "other"],
            &["GEOADD", "Sicily", "CH", "XX", "14", "38", "Palermo"],
            &["GEOADD", "Sicily", "CH", "14", "38", "Palermo"],
            &["GEOADD", "Sicily", "NX", "XX", "1", "2", "x"],
            &["GEOADD", "Sicily", "GT", "1", "2", "x"],
            &["GEOADD", "Sicily", "1", "2", "x", "3"],
            &["GEOADD", "Sicily", "CH", "CH", "CH"],
            &["GEOADD", "Sicily", "1", "2", "ok", "200", "100", "bad"],
            &["GEOADD", "Sicily", "1", "2", "ok", "x", "100", "bad"],
            &["GEOADD", "Sicily", "1", "2", "ok", "100", "nan", "bad"],
            &["GEOADD", "Sicily", "180.0000001", "0", "x"],
            &["GEOADD", "Sicily", "0", "85.05112879", "x"],
            &["GEOADD", "Sicily", "0", "-85.05112879", "x"],
            &["GEOADD", "Sicily", "-180", "-85.05112878", "sw", "180", "85.05112878", "ne", "0", "0", "zero"],
            &["GEOADD", "Sicily", "1e300", "0", "x"],
            &["GEOADD", "Sicily", "-inf", "0", "x"],
            &["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"],
            &["SET", "str", "x"],
            &["GEOADD", "str", "1", "2", "x"],
            &["GEOADD", "str", "1", "200", "x"],
            // Reading points back.
            &["GEOPOS", "Sicily", "Palermo", "Catania", "nope", "sw", "ne", "zero"],
            &["GEOPOS", "nokey", "a", "b"],
            &["GEOPOS", "str", "a"],
            &["GEOPOS", "Sicily"],
            &["GEOHASH", "Sicily", "Palermo", "Catania", "nope", "sw", "ne", "zero"],
            &["GEOHASH", "nokey", "a"],
            &["GEOHASH", "str", "a"],
            &["GEODIST", "Sicily", "Palermo", "Catania"],
            &["GEODIST", "Sicily", "Palermo", "Catania", "km"],
            &["GEODIST", "Sicily", "Palermo", "Catania", "MI"],
            &["GEODIST", "Sicily", "Palermo", "Catania", "Ft"],
            &["GEODIST", "Sicily", "Palermo", "Catania", "M"],
            &["GEODIST", "Sicily", "sw", "ne"],
            &["GEODIST", "Sicily", "Palermo", "Palermo"],
            &["GEODIST", "Sicily", "Palermo", "nope"],
            &["GEODIST", "Sicily", "Palermo", "Catania", "yards"],
            &["GEODIST", "nokey", "a", "b", "yards"],
            &["GEODIST", "Sicily", "Palermo", "Catania", "km", "extra"],
            &["GEODIST", "nokey", "a", "b"],
            &["GEODIST", "str", "a", "b"],
            // Scores GEOADD never writes decode too: negative, huge, infinite, beyond 52 bits.
            &["ZADD", "odd", "-1", "neg", "1e30", "huge", "inf", "pinf", "-inf", "ninf", "9007199254740993", "big"],
            &["ZADD", "odd", "4503599627370496", "b52", "0", "origin", "0.5", "half"],
            &["GEOPOS", "odd", "neg", "huge", "pinf", "ninf", "big", "b52", "origin", "half"],
            &["GEOHASH", "odd", "neg", "huge", "pinf", "ninf", "big", "b52", "origin", "half"],
            &["GEODIST", "odd", "neg", "huge"],
            &["GEORADIUSBYMEMBER", "odd", "origin", "100", "km", "WITHCOORD", "WITHHASH"],
            // Scripts see coordinates as RESP2 strings, or as RESP3 doubles once they ask.
            &["EVAL", "return redis.call('geopos', KEYS[1], 'Palermo', 'nope')", "1", "Sicily"],
            &["EVAL", "redis.setresp(3); return redis.call('geopos', KEYS[1], 'Palermo', 'nope')", "1", "Sicily"],
            &[
                "EVAL",
                "redis.setresp(3); return redis.call('georadius', KEYS[1], 15, 37, 200, 'km', 'withcoord', 'withdist')",
                "1",
                "Sicily",
            ],
            &["EVAL", "return redis.call('geoadd', KEYS[1], 1, 2, 'fromlua')", "1", "Sicily"],
        ] {
            check_dirty(p, args);
        }
    });
}

#[test]
fn search_arguments_are_checked_in_redis_order() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        p.check(SICILY);
        p.check(&["SET", "str", "x"]);
        for args in [
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"][..],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "WITHCOORD"],
            &["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "WITHDIST", "WITHHASH"],
            &["GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "200", "km"],
            &["GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "200", "km"],
            &["GEOSEARCH", "str", "FROMMEMBER", "nope", "BYRADIUS", "200", "km"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"],
            &["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km"],
            &["GEOSEARCH", "Sicily", "FROMMEMBER", "Catania", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "1", "km", "BYRADIUS", "1", "km"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "BYRADIUS", "300", "km"],
            &["GEOSEARCH", "Sicily", "BYRADIUS", "1", "km", "WITHDIST", "ASC"],
            &["geosearch", "Sicily", "BYRADIUS", "1", "km", "WITHDIST", "ASC"],
            &["GeoSearch", "Sicily", "FROMLONLAT", "15", "37", "WITHDIST", "ASC"],
            &["GEOSEARCH", "nokey", "FROMLONLAT", "15", "37", "WITHDIST", "ASC"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "200", "37", "BYRADIUS", "1", "km"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "x", "37", "BYRADIUS", "1", "km"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "x", "km"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "-1", "km"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "parsec"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "KM", "COUNT", "1"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "x", "y", "km"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "y", "km"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "-1", "1", "km"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "-1", "parsec"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "1", "parsec"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "1"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "BYRADIUS", "1", "km"],
            &["GEOSEARCH", "Sicily", "FROMMEMBER", "BYRADIUS", "1", "km"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "COUNT"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "COUNT", "0"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "COUNT", "-3"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "COUNT", "x"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "ANY"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "ANY", "COUNT", "1"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "COUNT", "1", "DESC"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "STORE", "d"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "STOREDIST"],
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "NOSUCH"],
            &["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "WITHDIST"],
            &["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "STORE", "e"],
            &["GEOSEARCHSTORE", "d", "nokey", "FROMMEMBER", "x", "BYRADIUS", "300", "km", "WITHHASH"],
            &["GEOSEARCHSTORE", "d", "str", "FROMMEMBER", "x", "BYRADIUS", "300", "km"],
            // The GEORADIUS family: position and radius first, then the options.
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH", "DESC"],
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1"],
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "ANY"],
            &["GEORADIUS", "Sicily", "15", "100", "200", "km"],
            &["GEORADIUS", "Sicily", "15", "37", "-200", "km"],
            &["GEORADIUS", "Sicily", "15", "37", "200", "yd"],
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "FROMMEMBER", "x"],
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "BYRADIUS", "1", "km"],
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d", "WITHCOORD"],
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE"],
            &["GEORADIUS", "str", "15", "37", "200", "km"],
            &["GEORADIUS", "nokey", "15", "37", "200", "km"],
            &["GEORADIUS", "nokey", "15", "37", "200", "km", "ANY"],
            &["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "WITHDIST", "ASC"],
            &["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "d"],
            &["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STOREDIST", "d"],
            &["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST", "ASC"],
            &["GEORADIUSBYMEMBER", "Sicily", "nope", "200", "km"],
            &["GEORADIUSBYMEMBER", "Sicily", "nope", "x", "km"],
            &["GEORADIUSBYMEMBER", "Sicily", "Palermo", "x", "km"],
            &["GEORADIUSBYMEMBER", "nokey", "nope", "x", "yards"],
            &["GEORADIUSBYMEMBER", "nokey", "nope", "x", "yards", "BOGUS"],
            &["GEORADIUSBYMEMBER", "nokey", "nope", "x", "yards", "COUNT", "0"],
            &["GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "200", "km", "COUNT", "1", "DESC", "WITHCOORD"],
            &["GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "200", "km", "STORE", "d"],
        ] {
            check_dirty(p, args);
        }
    });
}

/// STORE, STOREDIST and GEOSEARCHSTORE: what the destination holds (scores, encoding, TTL), the
/// reply, the dirty counter; an empty result deletes the destination.
#[test]
fn stores_replace_or_delete_the_destination() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        p.check(SICILY);
        let show = |p: &mut Pair, key: &str| {
            for args in [
                &["ZRANGE", key, "0", "-1", "WITHSCORES"][..],
                &["OBJECT", "ENCODING", key],
                &["TTL", key],
                &["TYPE", key],
            ] {
                p.check(args);
            }
        };
        for args in [
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d"][..],
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "d"],
            &["GEORADIUS", "Sicily", "15", "37", "200", "mi", "STORE", "x", "STOREDIST", "d", "ASC", "COUNT", "1"],
            &["GEORADIUSBYMEMBER", "Sicily", "Palermo", "500", "ft", "STORE", "d"],
            &["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "600", "600", "km"],
            &["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "600", "600", "km", "STOREDIST"],
            &["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "100", "km", "STOREDIST"],
        ] {
            p.check(&["SET", "d", "old", "EX", "100"]);
            check_dirty(p, args);
            show(p, "d");
        }
        // Nothing found, or no source: the destination goes, and a second time nothing changes.
        for args in [
            &["GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "d"][..],
            &["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"],
            &["GEOSEARCHSTORE", "d", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"],
            &["GEOSEARCHSTORE", "d", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "1", "m"],
            &["GEORADIUSBYMEMBER", "nokey", "nope", "1", "km", "STOREDIST", "d"],
        ] {
            p.check(&["SET", "d", "old"]);
            check_dirty(p, args);
            check_dirty(p, args);
            show(p, "d");
        }
        // A result too large for a listpack is stored as a skiplist.
        p.check(&["CONFIG", "SET", "zset-max-listpack-entries", "1"]);
        check_dirty(p, &["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km"]);
        show(p, "d");
        p.check(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]);
    });
}

/// A seeded random point in a cluster around (`lon`, `lat`), or anywhere, or on an edge of the
/// indexable area; printed with a random number of decimals.
fn random_point(rng: &mut fastrand::Rng, lon: f64, lat: f64) -> (String, String) {
    const EDGES: &[(&str, &str)] = &[
        ("180", "0"),
        ("-180", "0"),
        ("0", "85.05112878"),
        ("0", "-85.05112878"),
        ("180", "85.05112878"),
        ("-180", "-85.05112878"),
        ("179.9999999", "-85.05"),
        ("-179.99", "85.0511"),
        ("0", "0"),
        ("0.000001", "-0.000001"),
    ];
    let decimals = rng.usize(0..=8);
    let (x, y) = match rng.u8(0..20) {
        0 => {
            let (x, y) = EDGES[rng.usize(0..EDGES.len())];
            return (x.to_string(), y.to_string());
        }
        1..=3 => (rng.f64() * 360.0 - 180.0, rng.f64() * 170.1 - 85.05),
        _ => {
            let spread = [0.001, 0.05, 1.0, 5.0][rng.usize(0..4)];
            let x = (lon + (rng.f64() - 0.5) * spread * 2.0).clamp(-180.0, 180.0);
            let y = (lat + (rng.f64() - 0.5) * spread).clamp(-85.05, 85.05);
            (x, y)
        }
    };
    (format!("{x:.decimals$}"), format!("{y:.decimals$}"))
}

/// One random search over `key` around (`lon`, `lat`): GEOSEARCH, GEORADIUS or their member and
/// _RO forms, radius or box, a unit, options in random order, sometimes a store.
fn random_search(rng: &mut fastrand::Rng, key: &str, lon: f64, lat: f64, members: &[String]) -> Vec<String> {
    let units = ["m", "km", "ft", "mi", "KM", "Mi"];
    let unit = units[rng.usize(0..units.len())];
    let meters: f64 = match unit.to_ascii_lowercase().as_str() {
        "km" => 1000.0,
        "ft" => 0.3048,
        "mi" => 1609.34,
        _ => 1.0,
    };
    // From 10 m to 20000 km, spread over the scales.
    let extent_m = 10f64.powf(1.0 + rng.f64() * 6.3);
    let size = |rng: &mut fastrand::Rng| format!("{:.3}", extent_m * (0.5 + rng.f64()) / meters);
    let (clon, clat) = {
        let (x, y) = random_point(rng, lon, lat);
        (x, y)
    };
    let member = if rng.u8(0..10) == 0 { "nosuch".to_string() } else { members[rng.usize(0..members.len())].clone() };
    let mut cmd: Vec<String> = Vec::new();
    let store = rng.u8(0..5) == 0;
    let kind = rng.u8(0..4);
    match kind {
        0 | 1 => {
            if store {
                cmd.extend(["GEOSEARCHSTORE".to_string(), "dst".to_string()]);
            } else {
                cmd.push("GEOSEARCH".to_string());
            }
            cmd.push(key.to_string());
            if rng.bool() {
                cmd.extend(["FROMLONLAT".to_string(), clon, clat]);
            } else {
                cmd.extend(["FROMMEMBER".to_string(), member]);
            }
            if rng.bool() {
                cmd.extend(["BYRADIUS".to_string(), size(rng), unit.to_string()]);
            } else {
                cmd.extend(["BYBOX".to_string(), size(rng), size(rng), unit.to_string()]);
            }
        }
        2 => {
            cmd.push(if !store && rng.bool() { "GEORADIUS_RO" } else { "GEORADIUS" }.to_string());
            cmd.extend([key.to_string(), clon, clat, size(rng), unit.to_string()]);
        }
        _ => {
            cmd.push(if !store && rng.bool() { "GEORADIUSBYMEMBER_RO" } else { "GEORADIUSBYMEMBER" }.to_string());
            cmd.extend([key.to_string(), member, size(rng), unit.to_string()]);
        }
    }
    let mut opts: Vec<Vec<String>> = Vec::new();
    if !store {
        for w in ["WITHCOORD", "WITHDIST", "WITHHASH"] {
            if rng.u8(0..3) == 0 {
                opts.push(vec![w.to_string()]);
            }
        }
    }
    match rng.u8(0..3) {
        0 => opts.push(vec!["ASC".to_string()]),
        1 => opts.push(vec!["DESC".to_string()]),
        _ => {}
    }
    if rng.bool() {
        let count = [1, 2, 3, 5, 10, 50, 1000][rng.usize(0..7)];
        opts.push(vec!["COUNT".to_string(), count.to_string()]);
        if rng.u8(0..3) == 0 {
            opts.push(vec!["ANY".to_string()]);
        }
    }
    if store {
        match kind {
            0 | 1 if rng.bool() => opts.push(vec!["STOREDIST".to_string()]),
            0 | 1 => {}
            _ => opts.push(vec![if rng.bool() { "STORE" } else { "STOREDIST" }.to_string(), "dst".to_string()]),
        }
    }
    rng.shuffle(&mut opts);
    cmd.extend(opts.into_iter().flatten());
    cmd
}

/// Seeded random points (clusters, duplicates at one position, the edges of the indexable area)
/// in a listpack-encoded and a skiplist-encoded set, then seeded random searches of every kind:
/// each reply, and what each store left, must be Redis's.
#[test]
fn seeded_random_points_and_searches() {
    let duo = Duo::start(&[]);
    for (resp, seed) in [("2", 19u64), ("3", 20)] {
        let mut p = duo.pair_named(&format!("RESP{resp} seed {seed}"));
        p.both(&["HELLO", resp]);
        p.both(&["FLUSHALL"]);
        let mut rng = fastrand::Rng::with_seed(seed);
        let centers = [(13.36, 38.11), (-122.42, 37.77), (179.5, -16.5), (2.35, 84.0), (0.0, 0.0)];
        for (key, npoints) in [("small", 60), ("large", 600)] {
            let (lon, lat) = centers[rng.usize(0..centers.len())];
            let mut members = Vec::new();
            let mut batch = vec!["GEOADD".to_string(), key.to_string()];
            let mut last = ("0".to_string(), "0".to_string());
            for i in 0..npoints {
                // Some points share a position, so that equal distances are sorted as Redis does.
                let (x, y) = if i > 0 && rng.u8(0..8) == 0 { last.clone() } else { random_point(&mut rng, lon, lat) };
                let name = format!("m{i}");
                batch.extend([x.clone(), y.clone(), name.clone()]);
                members.push(name);
                last = (x, y);
                if batch.len() > 90 || i == npoints - 1 {
                    let args: Vec<&str> = batch.iter().map(String::as_str).collect();
                    p.check(&args);
                    batch.truncate(2);
                }
            }
            p.check(&["OBJECT", "ENCODING", key]);
            p.check(&["GEOHASH", key, "m0", "m1", "m2", "m3"]);
            let (mut found, mut several) = (0, 0);
            for _ in 0..150 {
                let (lon, lat) = centers[rng.usize(0..centers.len())];
                let cmd = random_search(&mut rng, key, lon, lat, &members);
                let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
                let n = match Reply::parse(&p.check(&args)) {
                    Reply::Array(items) => items.len() as i64,
                    Reply::Int(n) => n,
                    _ => 0,
                };
                found += i32::from(n > 0);
                several += i32::from(n > 3);
                if cmd[0].contains("STORE") || cmd.iter().any(|a| a.starts_with("STORE")) {
                    p.check(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]);
                    p.check(&["OBJECT", "ENCODING", "dst"]);
                }
            }
            // The searches must find points, often several, or they would compare little.
            assert!(found > 50 && several > 20, "{key}: {found} searches found points, {several} several");
            for pair in members.chunks(2).take(30) {
                p.check(&["GEODIST", key, &pair[0], &pair[pair.len() - 1], ["m", "km", "ft", "mi"][rng.usize(0..4)]]);
                p.check(&["GEOPOS", key, &pair[0]]);
            }
        }
        p.assert_clean();
    }
}

/// Geo writes propagate as Redis's do: GEOADD as the ZADD of its scores (options kept), the
/// searches that store as themselves, nothing for what changed nothing.
#[test]
fn geo_writes_propagate_like_redis() {
    let mut d = Differ::start(&[]);
    d.script(&[
        "geoadd g 13.361389 38.115556 palermo 15.087269 37.502669 catania",
        "geoadd g nx ch 13.361389 38.115556 palermo 1 2 other",
        "geoadd g xx ch 13 38 palermo 3 4 notadded",
        "geoadd g xx 13 38 palermo",
        "geoadd g 200 100 bad",
        "georadius g 15 37 200 km",
        "georadius g 15 37 200 km store d",
        "georadius g 15 37 200 km storedist d count 1",
        "georadiusbymember g palermo 200 km store d",
        "geosearchstore d g fromlonlat 15 37 byradius 200 km",
        "geosearchstore d g frommember palermo bybox 100 100 km storedist",
        "geosearchstore d g fromlonlat 0 0 byradius 1 km",
        "geosearchstore d g fromlonlat 0 0 byradius 1 km",
        "georadius nokey 0 0 1 km store g",
        "geosearch g fromlonlat 15 37 byradius 200 km",
        // Inside a transaction and a script GEOADD is still its ZADD.
        "multi",
        "geoadd t 1 2 a",
        "georadius t 1 2 10 km store u",
        "exec",
        "eval return(redis.call('geoadd',KEYS[1],3,4,'b')) 1 t",
    ]);
    d.finish();
}

/// Keyspace notifications: zadd for GEOADD, georadiusstore and geosearchstore for the stores,
/// del for an emptied destination.
#[test]
fn geo_keyspace_notifications_match() {
    let duo = Duo::start(&["--notify-keyspace-events", "KEA"]);
    let mut p = duo.pair();
    let mut sub = duo.pair_named("subscriber");
    sub.check(&["PSUBSCRIBE", "__key*__:*"]);
    let commands: &[&[&str]] = &[
        SICILY,
        &["GEOADD", "Sicily", "NX", "13.361389", "38.115556", "Palermo"],
        &["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d"],
        &["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "STOREDIST", "d"],
        &["GEOSEARCHSTORE", "e", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
        &["GEOSEARCHSTORE", "e", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
        &["GEORADIUS", "nokey", "15", "37", "200", "km", "STORE", "d"],
        &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
    ];
    for c in commands {
        p.check(c);
        sub.check_published(&format!("notifications of {c:?}"));
    }
}

/// COMMAND GETKEYS finds GEORADIUS's destination (the last STORE or STOREDIST); a store makes a
/// WATCH of the destination fail, and only of it.
#[test]
fn store_destinations_are_keys() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        p.check(SICILY);
        check_all(
            p,
            &[
                &["COMMAND", "GETKEYS", "GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d"],
                &["COMMAND", "GETKEYS", "GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d", "STOREDIST", "e"],
                &["COMMAND", "GETKEYS", "GEORADIUS", "Sicily", "15", "37", "200", "km"],
                &["COMMAND", "GETKEYS", "GEORADIUSBYMEMBER", "Sicily", "m", "200", "km", "storedist", "d"],
                &["COMMAND", "GETKEYS", "GEOSEARCHSTORE", "d", "Sicily", "FROMMEMBER", "m", "BYRADIUS", "1", "km"],
                &["COMMAND", "GETKEYS", "GEOADD", "Sicily", "1", "2", "m"],
                &["COMMAND", "GETKEYSANDFLAGS", "GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d"],
                &[
                    "COMMAND",
                    "GETKEYSANDFLAGS",
                    "GEOSEARCHSTORE",
                    "d",
                    "Sicily",
                    "FROMMEMBER",
                    "m",
                    "BYRADIUS",
                    "1",
                    "km",
                ],
                &["COMMAND", "INFO", "georadius", "georadiusbymember", "geosearchstore", "geoadd", "lolwut"],
            ],
        );
    });
    let mut p = duo.pair();
    let mut other = duo.pair_named("writer");
    p.check(&["FLUSHALL"]);
    p.check(SICILY);
    for (watched, cmd) in [
        ("d", &["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d"][..]),
        ("Sicily", &["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d"]),
        ("d", &["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"]),
        ("Sicily", &["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"]),
        ("d", &["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"]),
        ("Sicily", &["GEOADD", "Sicily", "1", "2", "x"]),
        ("Sicily", &["GEOADD", "Sicily", "1", "2", "x"]),
    ] {
        p.check(&["WATCH", watched]);
        other.check(cmd);
        p.check(&["MULTI"]);
        p.check(&["PING"]);
        p.check(&["EXEC"]);
    }
}

/// Every byte of LOLWUT that does not depend on rand(): the default version line, Schotter with
/// at most two rows of squares, a one-row skyline, the arguments' errors and limits; for the
/// random drawings, their size (lines, characters per line).
#[test]
fn lolwut_matches_redis_where_deterministic() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        check_all(
            p,
            &[
                &["LOLWUT"],
                &["LOLWUT", "5"],
                &["LOLWUT", "VERSION"],
                &["LOLWUT", "version", "7"],
                &["LOLWUT", "VERSION", "4"],
                &["LOLWUT", "VERSION", "-1"],
                &["LOLWUT", "VERSION", "x"],
                &["LOLWUT", "VERSION", "5", "x"],
                &["LOLWUT", "VERSION", "5", "10", "x"],
                &["LOLWUT", "VERSION", "5", "10", "3", "x"],
                &["LOLWUT", "VERSION", "6", "x"],
                &["LOLWUT", "VERSION", "6", "10", "x"],
                &["LOLWUT", "VERSION", "5", "10", "3", "2"],
                &["LOLWUT", "VERSION", "5", "66", "8", "2"],
                &["LOLWUT", "VERSION", "5", "1", "1", "1"],
                &["LOLWUT", "VERSION", "5", "2", "1", "2"],
                &["LOLWUT", "VERSION", "5", "3", "5", "1"],
                &["LOLWUT", "VERSION", "5", "-5", "-5", "-5"],
                &["LOLWUT", "VERSION", "5", "5000", "300", "1"],
                &["LOLWUT", "VERSION", "5", "37", "1", "2", "ignored"],
                &["LOLWUT", "VERSION", "4294967301", "20", "3", "1"],
                &["LOLWUT", "VERSION", "6", "20", "1"],
                &["LOLWUT", "VERSION", "6", "1", "1"],
                &["LOLWUT", "VERSION", "6", "0", "-3"],
                &["LOLWUT", "VERSION", "6", "5000", "1"],
            ],
        );
        // Drawn with rand(): only the canvas size can be compared.
        for args in [
            &["LOLWUT", "VERSION", "5"][..],
            &["LOLWUT", "VERSION", "5", "40", "4", "7"],
            &["LOLWUT", "VERSION", "6"],
            &["LOLWUT", "VERSION", "6", "33", "9"],
        ] {
            p.check_with(args, shape_of_drawing);
        }
    });
}

/// A drawing reduced to its size: every braille character and every coloured pixel as `#`.
fn shape_of_drawing(reply: &[u8]) -> Vec<u8> {
    let (format, text) = match Reply::parse(reply) {
        Reply::Bulk(b) => (String::new(), b),
        Reply::Verbatim(f, b) => (f, b),
        other => return other.encode(),
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if ('\u{2800}'..='\u{28ff}').contains(&c) {
            out.push('#');
        } else if c == '\x1b' {
            // "\x1b[<color>m \x1b[0m": one pixel.
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
            out.push('#');
            let rest: String = chars.by_ref().take(5).collect();
            debug_assert_eq!(rest, " \x1b[0m");
        } else {
            out.push(c);
        }
    }
    format!("{format}:{out}").into_bytes()
}
