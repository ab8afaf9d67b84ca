//! GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the _RO forms: one parser and one
//! search (georadiusGeneric). The search scans the score ranges of the shape's cell and its
//! neighbours (`geohash::search_areas`), keeps the points inside the shape, sorts them by distance
//! if asked, and replies or stores them. The order of unsorted results and of equal distances is
//! Redis's: cells in its order, each in score order, sorted stably (glibc's qsort is a merge sort)
//! or, when COUNT cuts the result, with Redis's own partial quicksort.

use std::cmp::Ordering;

use bytes::Bytes;

use super::{coords_reply, distance_reply, is, lon_lat, unit};
use crate::commands::{errors, int_arg, notify, Ctx};
use crate::keyspace::db::Ttl;
use crate::keyspace::Value;
use crate::protocol::Reply;
use crate::types::geohash::{self, HashBits, Shape, ShapeKind};
use crate::types::zset::{Limits, ScoreRange, ZSet};
use crate::util::pqsort::pqsort;

/// Which command runs the search (Redis's RADIUS_* and GEOSEARCH* flags).
#[derive(Clone, Copy)]
struct Variant {
    /// GEORADIUS: the centre is a longitude and a latitude.
    coords: bool,
    /// GEORADIUSBYMEMBER: the centre is a member.
    member: bool,
    /// The _RO forms: no STORE or STOREDIST.
    no_store: bool,
    /// GEOSEARCH and GEOSEARCHSTORE: FROM* and BY* options.
    search: bool,
    /// GEOSEARCHSTORE.
    search_store: bool,
}

const RADIUS: Variant = Variant { coords: true, member: false, no_store: false, search: false, search_store: false };
const BY_MEMBER: Variant = Variant { coords: false, member: true, ..RADIUS };
const SEARCH: Variant = Variant { coords: false, member: false, no_store: false, search: true, search_store: false };

pub fn georadius(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, 1, RADIUS)
}

pub fn georadius_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, 1, Variant { no_store: true, ..RADIUS })
}

pub fn georadiusbymember(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, 1, BY_MEMBER)
}

pub fn georadiusbymember_ro(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, 1, Variant { no_store: true, ..BY_MEMBER })
}

pub fn geosearch(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, 1, SEARCH)
}

pub fn geosearchstore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    generic(ctx, args, 2, Variant { search_store: true, ..SEARCH })
}

/// GEORADIUS and GEORADIUSBYMEMBER's keys (georadiusGetKeys): the source, and the last STORE or
/// STOREDIST destination from the sixth argument on.
pub fn radius_keys(args: &[Bytes]) -> Vec<usize> {
    let mut stored = None;
    let mut i = 5;
    while i < args.len() {
        if (is(&args[i], "store") || is(&args[i], "storedist")) && i + 1 < args.len() {
            stored = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    std::iter::once(1).chain(stored).collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A parsed request, once every argument was checked.
struct Request {
    shape: Shape,
    store: Option<Bytes>,
    store_dist: bool,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    sort: Sort,
    /// 0: no COUNT.
    count: usize,
    any: bool,
}

/// A point found inside the shape.
struct Point {
    xy: [f64; 2],
    /// From the centre, in meters.
    dist: f64,
    score: f64,
    member: Vec<u8>,
}

fn radius_arg(arg: &[u8], unit_arg: &[u8]) -> Result<(f64, f64), Reply> {
    let radius = crate::util::numbers::parse_f64(arg).ok_or_else(|| Reply::error("ERR need numeric radius"))?;
    if radius < 0.0 {
        return Err(Reply::error("ERR radius cannot be negative"));
    }
    Ok((radius, unit(unit_arg)?))
}

/// BYBOX width height unit: (width, height, conversion).
fn box_args(w: &[u8], h: &[u8], unit_arg: &[u8]) -> Result<(f64, f64, f64), Reply> {
    let parse = |a: &[u8], what: &'static str| crate::util::numbers::parse_f64(a).ok_or_else(|| Reply::error(what));
    let width = parse(w, "ERR need numeric width")?;
    let height = parse(h, "ERR need numeric height")?;
    if height < 0.0 || width < 0.0 {
        return Err(Reply::error("ERR height or width cannot be negative"));
    }
    Ok((width, height, unit(unit_arg)?))
}

/// A member's position, or Redis's error when it is not in the set.
fn member_xy(z: &ZSet, member: &[u8]) -> Result<[f64; 2], Reply> {
    z.score(member).map(geohash::decode_score).ok_or_else(|| Reply::error("ERR could not decode requested zset member"))
}

/// The arguments in Redis's order: the fixed ones of GEORADIUS*, then the options one by one
/// (each error as met), then the combinations. A missing source set is only noted: the options
/// are still checked, except those that need the set (the member of GEORADIUSBYMEMBER).
fn parse(z: Option<&ZSet>, args: &[Bytes], v: Variant) -> Result<Request, Reply> {
    let mut shape = Shape { xy: [0.0, 0.0], conversion: 0.0, kind: ShapeKind::Circle { radius: 0.0 } };
    let mut store = None;
    let base = if v.coords {
        shape.xy = lon_lat(&args[2], &args[3])?;
        let (radius, conversion) = radius_arg(&args[4], &args[5])?;
        (shape.kind, shape.conversion) = (ShapeKind::Circle { radius }, conversion);
        6
    } else if v.member {
        if let Some(z) = z {
            shape.xy = member_xy(z, &args[2])?;
            let (radius, conversion) = radius_arg(&args[3], &args[4])?;
            (shape.kind, shape.conversion) = (ShapeKind::Circle { radius }, conversion);
        }
        5
    } else if v.search_store {
        store = Some(args[1].clone());
        3
    } else {
        2
    };
    let mut req = Request {
        shape,
        store,
        store_dist: false,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        sort: Sort::None,
        count: 0,
        any: false,
    };
    let (mut from_member, mut from_loc, mut by_radius, mut by_box) = (false, false, false, false);
    let opts = &args[base.min(args.len())..];
    let mut i = 0;
    while i < opts.len() {
        let arg = &opts[i];
        let left = opts.len() - i - 1;
        if is(arg, "withdist") {
            req.with_dist = true;
        } else if is(arg, "withhash") {
            req.with_hash = true;
        } else if is(arg, "withcoord") {
            req.with_coord = true;
        } else if is(arg, "any") {
            req.any = true;
        } else if is(arg, "asc") {
            req.sort = Sort::Asc;
        } else if is(arg, "desc") {
            req.sort = Sort::Desc;
        } else if is(arg, "count") && left >= 1 {
            let count = int_arg(&opts[i + 1])?;
            if count <= 0 {
                return Err(Reply::error("ERR COUNT must be > 0"));
            }
            req.count = usize::try_from(count).unwrap_or(usize::MAX);
            i += 1;
        } else if (is(arg, "store") || is(arg, "storedist")) && left >= 1 && !v.no_store && !v.search {
            req.store = Some(opts[i + 1].clone());
            req.store_dist = is(arg, "storedist");
            i += 1;
        } else if is(arg, "storedist") && v.search && v.search_store {
            req.store_dist = true;
        } else if is(arg, "frommember") && left >= 1 && v.search && !from_loc {
            // Without a source set the member is not looked up: the missing set answers later.
            if let Some(z) = z {
                req.shape.xy = member_xy(z, &opts[i + 1])?;
            }
            from_member = true;
            i += 1;
        } else if is(arg, "fromlonlat") && left >= 2 && v.search && !from_member {
            req.shape.xy = lon_lat(&opts[i + 1], &opts[i + 2])?;
            from_loc = true;
            i += 2;
        } else if is(arg, "byradius") && left >= 2 && v.search && !by_box {
            let (radius, conversion) = radius_arg(&opts[i + 1], &opts[i + 2])?;
            (req.shape.kind, req.shape.conversion) = (ShapeKind::Circle { radius }, conversion);
            by_radius = true;
            i += 2;
        } else if is(arg, "bybox") && left >= 3 && v.search && !by_radius {
            let (width, height, conversion) = box_args(&opts[i + 1], &opts[i + 2], &opts[i + 3])?;
            (req.shape.kind, req.shape.conversion) = (ShapeKind::Box { width, height }, conversion);
            by_box = true;
            i += 3;
        } else {
            return Err(Reply::error(errors::SYNTAX));
        }
        i += 1;
    }
    if req.store.is_some() && (req.with_dist || req.with_hash || req.with_coord) {
        let what = if v.search_store { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
        return Err(Reply::error(format!(
            "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = String::from_utf8_lossy(&args[0]);
    if v.search && !(from_member || from_loc) {
        return Err(Reply::error(format!("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}")));
    }
    if v.search && !(by_radius || by_box) {
        return Err(Reply::error(format!("ERR exactly one of BYRADIUS and BYBOX can be specified for {name}")));
    }
    if req.any && req.count == 0 {
        return Err(Reply::error("ERR the ANY argument requires COUNT argument"));
    }
    Ok(req)
}

/// The points of one cell inside the shape, appended in score order (geoGetPointsInRange); stops
/// once `limit` points were found (0: no limit).
fn points_in_cell(z: &ZSet, cell: HashBits, shape: &Shape, found: &mut Vec<Point>, limit: usize) {
    let min = cell.align52() as f64;
    let max = HashBits { bits: cell.bits + 1, step: cell.step }.align52() as f64;
    let range = ScoreRange { min, max, min_ex: false, max_ex: true };
    let Some(first) = z.first_in_score_range(&range) else { return };
    for (member, score) in z.iter_at(first, false) {
        if !range.lte_max(score) {
            break;
        }
        let xy = geohash::decode_score(score);
        if let Some(dist) = shape.contains(xy) {
            found.push(Point { xy, dist, score, member: member.to_vec() });
        }
        if limit != 0 && found.len() >= limit {
            break;
        }
    }
}

/// The points inside the shape, cell after cell (membersOfAllNeighbors). A huge radius can make
/// a neighbour the same cell as the one before it: that one is skipped. (Redis compares with the
/// last cell processed only once one after the centre was, a quirk kept.)
fn points_in_shape(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Point> {
    let cells = geohash::search_areas(shape);
    let mut found = Vec::new();
    let mut last = 0;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() || (last != 0 && *cell == cells[last]) {
            continue;
        }
        if limit != 0 && found.len() >= limit {
            break;
        }
        points_in_cell(z, *cell, shape, &mut found, limit);
        last = i;
    }
    found
}

/// sort_gp_asc: by distance, unordered values as smaller.
fn by_distance(a: &Point, b: &Point) -> Ordering {
    if a.dist > b.dist {
        Ordering::Greater
    } else if a.dist == b.dist {
        Ordering::Equal
    } else {
        Ordering::Less
    }
}

/// What the search found, before the reply: the request and the points, or nothing when the
/// source set does not exist.
enum Found {
    NoSource(Option<Bytes>),
    Points(Request, Vec<Point>),
}

fn search(z: Option<&ZSet>, args: &[Bytes], v: Variant) -> Result<Found, Reply> {
    let mut req = parse(z, args, v)?;
    let Some(z) = z else { return Ok(Found::NoSource(req.store)) };
    // COUNT returns the nearest points, so it sorts unless ANY takes the first ones found.
    if req.count != 0 && req.sort == Sort::None && !req.any {
        req.sort = Sort::Asc;
    }
    let mut points = points_in_shape(z, &req.shape, if req.any { req.count } else { 0 });
    let returned = if req.count == 0 { points.len() } else { points.len().min(req.count) };
    match req.sort {
        Sort::None => {}
        _ => {
            let desc = req.sort == Sort::Desc;
            let cmp = |a: &Point, b: &Point| if desc { by_distance(a, b).reverse() } else { by_distance(a, b) };
            if returned == points.len() {
                points.sort_by(cmp);
            } else {
                pqsort(&mut points, &cmp, 0, returned - 1);
            }
        }
    }
    points.truncate(returned);
    Ok(Found::Points(req, points))
}

fn generic(ctx: &mut Ctx, args: &[Bytes], src: usize, v: Variant) -> Reply {
    let resp = ctx.session.resp;
    let found = {
        let z = tri!(ctx.read_typed(&args[src], Value::as_zset));
        tri!(search(z, args, v))
    };
    let (req, points) = match found {
        Found::NoSource(None) => return Reply::Array(Vec::new()),
        Found::NoSource(Some(dst)) => {
            delete_destination(ctx, &dst);
            return Reply::Int(0);
        }
        Found::Points(req, points) => (req, points),
    };
    let conversion = req.shape.conversion;
    if let Some(dst) = &req.store {
        let event = if v.search { "geosearchstore" } else { "georadiusstore" };
        return store(ctx, dst, points, req.store_dist, conversion, event);
    }
    let extras = usize::from(req.with_dist) + usize::from(req.with_hash) + usize::from(req.with_coord);
    let items = points.into_iter().map(|p| {
        if extras == 0 {
            return Reply::Bulk(p.member);
        }
        let mut item = Vec::with_capacity(extras + 1);
        item.push(Reply::Bulk(p.member));
        if req.with_dist {
            item.push(distance_reply(p.dist / conversion));
        }
        if req.with_hash {
            // addReplyLongLong of the double score: C's truncating conversion.
            item.push(Reply::Int(p.score as i64));
        }
        if req.with_coord {
            item.push(coords_reply(resp, p.xy));
        }
        Reply::Array(item)
    });
    Reply::Array(items.collect())
}

/// An empty result deletes the destination, as an empty sorted set cannot exist.
fn delete_destination(ctx: &mut Ctx, dst: &[u8]) {
    if crate::server::lazyfree::server_delete(ctx.state, ctx.session.db, dst) {
        let db = ctx.session.db;
        ctx.key_modified_in(db, dst);
        ctx.notify(notify::GENERIC, "del", dst);
        ctx.dirty(1);
    }
}

/// STORE / STOREDIST / GEOSEARCHSTORE: the points replace the destination (and its TTL), scored
/// by geohash or by distance in the request's unit.
fn store(ctx: &mut Ctx, dst: &[u8], points: Vec<Point>, by_dist: bool, conversion: f64, event: &str) -> Reply {
    let n = points.len();
    if n == 0 {
        delete_destination(ctx, dst);
        return Reply::Int(0);
    }
    let e = &ctx.state.hot.encoding;
    let limits = Limits { max_entries: e.zset_max_listpack_entries, max_value: e.zset_max_listpack_value };
    let pairs = points.into_iter().map(|p| {
        let score = if by_dist { p.dist / conversion } else { p.score };
        (p.member, score)
    });
    let z = ZSet::from_pairs(pairs, limits);
    // Like setKey: a destination past its TTL is expired first.
    ctx.lookup_write(dst);
    crate::server::lazyfree::server_overwrite(ctx.state, ctx.session.db, dst, Value::ZSet(Box::new(z)), Ttl::Clear);
    let db = ctx.session.db;
    ctx.key_modified_in(db, dst);
    ctx.notify(notify::ZSET, event, dst);
    ctx.dirty(n as u64);
    Reply::Int(n as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<Bytes> {
        line.split(' ').map(|s| Bytes::copy_from_slice(s.as_bytes())).collect()
    }

    #[test]
    fn store_keys_are_found_like_redis() {
        assert_eq!(radius_keys(&args("GEORADIUS k 1 2 3 km")), vec![1]);
        assert_eq!(radius_keys(&args("GEORADIUS k 1 2 3 km STORE d")), vec![1, 7]);
        assert_eq!(radius_keys(&args("GEORADIUS k 1 2 3 km STORE d STOREDIST e")), vec![1, 9]);
        assert_eq!(radius_keys(&args("GEORADIUSBYMEMBER k m 3 km storedist d")), vec![1, 6]);
        assert_eq!(radius_keys(&args("GEORADIUS k 1 2 3 km STORE")), vec![1]);
    }
}
