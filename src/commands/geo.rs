//! The geo commands (geo.c): points kept in a sorted set whose scores are their 52-bit geohashes.
//! GEOADD is ZADD with computed scores (and is replayed as that ZADD, as Redis does); GEOPOS,
//! GEODIST and GEOHASH decode scores; the searches are in `search`. Replies, number formats and
//! the order in which arguments are checked follow Redis 7.0.

mod search;

use bytes::Bytes;

use super::{errors, float_arg, Ctx};
use crate::cmd;
use crate::keyspace::Value;
use crate::protocol::Reply;
use crate::server::command::{CommandSpec, DENYOOM, READONLY, WRITE};
use crate::types::geohash::{self, LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN};
use crate::util::numbers::format_long_double;

const SEARCH_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";

/// The stores signal their destination themselves (`write_keys` empty): the source is only read,
/// and GEORADIUS's destination moves with its options.
pub static TABLE: &[CommandSpec] = &[
    cmd!("geoadd", -5, WRITE | DENYOOM, (1, 1, 1), "geo", "3.2.0", "Add one or more geospatial items in the geospatial index represented using a sorted set", "O(log(N)) for each item added, where N is the number of elements in the sorted set.", geoadd),
    cmd!("geodist", -4, READONLY, (1, 1, 1), "geo", "3.2.0", "Returns the distance between two members of a geospatial index", "O(log(N))", geodist),
    cmd!("geohash", -2, READONLY, (1, 1, 1), "geo", "3.2.0", "Returns members of a geospatial index as standard geohash strings", "O(log(N)) for each member requested, where N is the number of elements in the sorted set.", geohash),
    cmd!("geopos", -2, READONLY, (1, 1, 1), "geo", "3.2.0", "Returns longitude and latitude of members of a geospatial index", "O(N) where N is the number of members requested.", geopos),
    CommandSpec {
        keys_fn: Some(search::radius_keys),
        write_keys: Some((0, 0, 0)),
        complexity: SEARCH_COMPLEXITY,
        ..cmd!("georadius", -6, WRITE | DENYOOM, (1, 1, 1), "geo", "3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point", "", search::georadius)
    },
    CommandSpec {
        complexity: SEARCH_COMPLEXITY,
        ..cmd!("georadius_ro", -6, READONLY, (1, 1, 1), "geo", "3.2.10", "A read-only variant for GEORADIUS", "", search::georadius_ro)
    },
    CommandSpec {
        keys_fn: Some(search::radius_keys),
        write_keys: Some((0, 0, 0)),
        complexity: SEARCH_COMPLEXITY,
        ..cmd!("georadiusbymember", -5, WRITE | DENYOOM, (1, 1, 1), "geo", "3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member", "", search::georadiusbymember)
    },
    CommandSpec {
        complexity: SEARCH_COMPLEXITY,
        ..cmd!("georadiusbymember_ro", -5, READONLY, (1, 1, 1), "geo", "3.2.10", "A read-only variant for GEORADIUSBYMEMBER", "", search::georadiusbymember_ro)
    },
    cmd!("geosearch", -7, READONLY, (1, 1, 1), "geo", "6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape", search::geosearch),
    CommandSpec {
        write_keys: Some((0, 0, 0)),
        ..cmd!("geosearchstore", -8, WRITE | DENYOOM, (1, 2, 1), "geo", "6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape", search::geosearchstore)
    },
];

/// ASCII case-insensitive option match.
fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// A longitude and a latitude argument (extractLongLatOrReply): both parsed, then their range.
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], Reply> {
    let xy = [float_arg(lon)?, float_arg(lat)?];
    if !(LONG_MIN..=LONG_MAX).contains(&xy[0]) || !(LAT_MIN..=LAT_MAX).contains(&xy[1]) {
        return Err(Reply::error(format!("ERR invalid longitude,latitude pair {:.6},{:.6}", xy[0], xy[1])));
    }
    Ok(xy)
}

/// A distance unit's factor to meters (extractUnitOrReply).
fn unit(arg: &[u8]) -> Result<f64, Reply> {
    geohash::unit_to_meters(arg).ok_or_else(|| Reply::error("ERR unsupported unit provided. please use M, KM, FT, MI"))
}

/// A distance as Redis replies it (addReplyDoubleDistance): four decimals, rounded half to even
/// as llrint does, as a bulk string.
fn distance_reply(d: f64) -> Reply {
    let scaled = (d * 10000.0).round_ties_even();
    // llrint of a value beyond i64 gives i64::MIN on x86-64; `as` saturates, which only matters
    // for distances no search produces.
    let v = if scaled.is_finite() && scaled.abs() < 9.2e18 { scaled as i64 } else { i64::MIN };
    let digits = format!("{:05}", v.unsigned_abs());
    let (int, frac) = digits.split_at(digits.len() - 4);
    let sign = if v < 0 { "-" } else { "" };
    Reply::Bulk(format!("{sign}{int}.{frac}").into_bytes())
}

/// A coordinate as addReplyHumanLongDouble writes it: `%.17Lf` trimmed, a bulk string in RESP2,
/// a double in RESP3 (in that text, not the shortest round-trip one).
fn coord_reply(resp: u8, v: f64) -> Reply {
    let text = format_long_double(v);
    if resp >= 3 {
        Reply::Encoded(format!(",{text}\r\n").into_bytes())
    } else {
        Reply::Bulk(text.into_bytes())
    }
}

fn coords_reply(resp: u8, xy: [f64; 2]) -> Reply {
    Reply::Array(vec![coord_reply(resp, xy[0]), coord_reply(resp, xy[1])])
}

/// GEOADD key [NX|XX] [CH] lon lat member ...: checked whole, then run as the ZADD of the
/// points' scores, which is also what replicas and the AOF receive.
fn geoadd(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (mut nx, mut xx) = (false, false);
    let mut longidx = 2;
    while longidx < args.len() {
        let opt = &args[longidx];
        if is(opt, "nx") {
            nx = true;
        } else if is(opt, "xx") {
            xx = true;
        } else if !is(opt, "ch") {
            break;
        }
        longidx += 1;
    }
    if (args.len() - longidx) % 3 != 0 || (xx && nx) {
        return Reply::error(errors::SYNTAX);
    }
    let mut zadd: Vec<Bytes> = Vec::with_capacity(longidx + (args.len() - longidx) / 3 * 2);
    zadd.push(Bytes::from_static(b"zadd"));
    zadd.extend_from_slice(&args[1..longidx]);
    for point in args[longidx..].chunks_exact(3) {
        let [lon, lat] = tri!(lon_lat(&point[0], &point[1]));
        let Some(score) = geohash::score_of(lon, lat) else {
            return Reply::error(format!("ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"));
        };
        zadd.push(Bytes::from(score.to_string()));
        zadd.push(point[2].clone());
    }
    let reply = super::zsets::zadd(ctx, &zadd);
    ctx.propagate_as(|| zadd);
    reply
}

/// The scores of `members` in the zset at `key`, None for each missing one; Err for WRONGTYPE.
fn scores_of(ctx: &mut Ctx, key: &[u8], members: &[Bytes]) -> Result<Vec<Option<f64>>, Reply> {
    let z = ctx.read_typed(key, Value::as_zset)?;
    Ok(members.iter().map(|m| z.and_then(|z| z.score(m))).collect())
}

fn geopos(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let resp = ctx.session.resp;
    let scores = tri!(scores_of(ctx, &args[1], &args[2..]));
    Reply::Array(
        scores
            .into_iter()
            .map(|s| match s {
                Some(score) => coords_reply(resp, geohash::decode_score(score)),
                None => Reply::NilArray,
            })
            .collect(),
    )
}

fn geohash(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let scores = tri!(scores_of(ctx, &args[1], &args[2..]));
    Reply::Array(
        scores
            .into_iter()
            .map(|s| match s {
                Some(score) => Reply::Bulk(geohash::geohash_string(score).to_vec()),
                None => Reply::Nil,
            })
            .collect(),
    )
}

/// GEODIST key member1 member2 [unit]: the unit is checked before the key is looked up.
fn geodist(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let to_meters = match args.len() {
        5 => tri!(unit(&args[4])),
        n if n > 5 => return Reply::error(errors::SYNTAX),
        _ => 1.0,
    };
    let scores = tri!(scores_of(ctx, &args[1], &args[2..4]));
    match scores[..] {
        [Some(a), Some(b)] => {
            let [x1, y1] = geohash::decode_score(a);
            let [x2, y2] = geohash::decode_score(b);
            distance_reply(geohash::distance(x1, y1, x2, y2) / to_meters)
        }
        _ => Reply::Nil,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_have_four_decimals() {
        let text = |d: f64| match distance_reply(d) {
            Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            _ => String::new(),
        };
        assert_eq!(text(0.0), "0.0000");
        assert_eq!(text(0.00004), "0.0000");
        assert_eq!(text(0.00016), "0.0002");
        assert_eq!(text(166274.15156960033), "166274.1516");
        assert_eq!(text(1.5), "1.5000");
    }
}
