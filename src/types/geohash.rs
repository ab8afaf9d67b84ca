//! Redis's geohash (geohash.c): a point is stored as a sorted set score, the 52-bit interleave of
//! its latitude and longitude cells at 26 bits each. Latitudes are limited to the Web Mercator
//! range (±85.05112878), where Redis can index; the neighbours of a cell and the cells a search
//! must scan are in `area`. Every formula follows Redis's, operation for operation, since the
//! replies show the decoded doubles to the last bit.

mod area;

pub use area::{distance, search_areas, Shape, ShapeKind, EARTH_RADIUS_M};

/// 26 bits per coordinate: 52 bits, what a double holds exactly.
pub const STEP_MAX: u8 = 26;
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;

/// A cell: `step` bits of each coordinate, interleaved (latitude in the even bits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    /// The "no cell" mark of a neighbour a search skips (GZERO).
    pub const ZERO: HashBits = HashBits { bits: 0, step: 0 };

    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The cell's first score at full precision (geohashAlign52Bits).
    pub fn align52(&self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

/// An interval of one coordinate.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

impl Range {
    fn is_zero(&self) -> bool {
        self.min == 0.0 && self.max == 0.0
    }
}

/// The coordinate ranges scores are encoded in.
pub const LONG_RANGE: Range = Range { min: LONG_MIN, max: LONG_MAX };
pub const LAT_RANGE: Range = Range { min: LAT_MIN, max: LAT_MAX };

/// A cell's extent.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

/// Spreads the low 32 bits of `x` to the even bits and those of `y` to the odd ones.
fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] =
        [0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let (mut x, mut y) = (u64::from(xlo), u64::from(ylo));
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// The even bits in the low half, the odd bits in the high half.
fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let (mut x, mut y) = (interleaved, interleaved >> 1);
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// The cell of `step` bits holding the point, in the given ranges (geohashEncode); None outside
/// them or outside the indexable area.
pub fn encode(long_range: Range, lat_range: Range, longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    if step > 32 || step == 0 || lat_range.is_zero() || long_range.is_zero() {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min || latitude > lat_range.max || longitude < long_range.min || longitude > long_range.max
    {
        return None;
    }
    let cells = (1u64 << step) as f64;
    let lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min) * cells;
    let long_offset = (longitude - long_range.min) / (long_range.max - long_range.min) * cells;
    // C converts the offsets to uint32_t by truncation; they are at most 2^step.
    Some(HashBits { bits: interleave64(lat_offset as u32, long_offset as u32), step })
}

/// The cell of a point at full precision in Redis's ranges: what GEOADD stores.
pub fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    encode(LONG_RANGE, LAT_RANGE, longitude, latitude, step)
}

/// A cell's extent in the given ranges (geohashDecode, for a non-zero hash).
pub fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Area {
    let step = hash.step;
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let cells = (1u64 << step) as f64;
    // `+ 1` is C's uint32_t arithmetic: it wraps for a score beyond 52 bits.
    Area {
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) / cells) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) / cells) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) / cells) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) / cells) * long_scale,
        },
    }
}

/// A cell's centre, clamped to the indexable area (geohashDecodeAreaToLongLat).
pub fn area_center(area: &Area) -> [f64; 2] {
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// C's `(uint64_t)` of a double as gcc compiles it for x86-64: below 2^63 through a signed
/// conversion (a negative score wraps, an out-of-range one is 2^63), above by subtracting 2^63
/// (2^64 and more, and NaN, give 0). Only scores not written by GEOADD take these paths.
fn score_to_bits(score: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let signed = |v: f64| -> i64 {
        if (-TWO_63..TWO_63).contains(&v) {
            v as i64
        } else {
            i64::MIN
        }
    };
    if score < TWO_63 {
        signed(score) as u64
    } else {
        (signed(score - TWO_63) as u64) ^ (1 << 63)
    }
}

/// The point a sorted set score stands for (decodeGeohash): the centre of its 52-bit cell.
pub fn decode_score(score: f64) -> [f64; 2] {
    let hash = HashBits { bits: score_to_bits(score), step: STEP_MAX };
    area_center(&decode(LONG_RANGE, LAT_RANGE, hash))
}

/// The score GEOADD stores for a point, or None outside the indexable area.
pub fn score_of(longitude: f64, latitude: f64) -> Option<u64> {
    encode_wgs84(longitude, latitude, STEP_MAX).map(|h| h.align52())
}

/// The 11-character standard geohash of a score (GEOHASH): the point decoded, then encoded again
/// with the standard latitude range ±90, since Redis's own cells use ±85.05; the 11th character
/// stands for bits Redis does not have, always '0'.
pub fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [lon, lat] = decode_score(score);
    let standard = Range { min: -90.0, max: 90.0 };
    // A decoded point is always inside both ranges.
    let bits = encode(LONG_RANGE, standard, lon, lat, STEP_MAX).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().take(10).enumerate() {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    out
}

/// The eight cells around one, same size (geohashNeighbors), in the order a search scans them:
/// north, south, east, west, north-east, north-west, south-east, south-west.
pub fn neighbors(hash: HashBits) -> [HashBits; 8] {
    let moved = |dx: i8, dy: i8| move_y(move_x(hash, dx), dy);
    [moved(0, 1), moved(0, -1), moved(1, 0), moved(-1, 0), moved(1, 1), moved(-1, 1), moved(1, -1), moved(-1, -1)]
}

fn move_x(mut hash: HashBits, d: i8) -> HashBits {
    if d == 0 {
        return hash;
    }
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let shift = 64 - u32::from(hash.step) * 2;
    let zz = 0x5555555555555555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> shift;
    hash.bits = x | y;
    hash
}

fn move_y(mut hash: HashBits, d: i8) -> HashBits {
    if d == 0 {
        return hash;
    }
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let shift = 64 - u32::from(hash.step) * 2;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555u64 >> shift;
    hash.bits = x | y;
    hash
}

/// The conversion factor to meters of a distance unit (extractUnitOrReply), case-insensitive.
pub fn unit_to_meters(unit: &[u8]) -> Option<f64> {
    [(&b"m"[..], 1.0), (b"km", 1000.0), (b"ft", 0.3048), (b"mi", 1609.34)]
        .iter()
        .find(|(name, _)| unit.eq_ignore_ascii_case(name))
        .map(|&(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_round_trips() {
        for (x, y) in [(0u32, 0u32), (1, 0), (0, 1), (0x3ffffff, 0x1234567), (u32::MAX, 7)] {
            let sep = deinterleave64(interleave64(x, y));
            assert_eq!((sep as u32, (sep >> 32) as u32), (x, y));
        }
    }

    #[test]
    fn scores_and_geohash_strings_match_redis() {
        // GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania in Redis 7.0.
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(score_of(15.087269, 37.502669), Some(3479447370796909));
        assert_eq!(&geohash_string(3479099956230698.0), b"sqc8b49rny0");
        assert_eq!(&geohash_string(3479447370796909.0), b"sqdtr74hyu0");
        assert_eq!(score_of(0.0, 85.06), None);
        assert_eq!(score_of(180.1, 0.0), None);
    }

    #[test]
    fn a_cell_decodes_around_its_point() {
        let [lon, lat] = decode_score(3479099956230698.0);
        assert!((lon - 13.361389).abs() < 1e-5 && (lat - 38.115556).abs() < 1e-5);
    }

    #[test]
    fn neighbors_surround_the_cell() {
        let h = encode_wgs84(10.0, 10.0, 10).unwrap_or_default();
        let a = decode(LONG_RANGE, LAT_RANGE, h);
        let n = neighbors(h);
        let north = decode(LONG_RANGE, LAT_RANGE, n[0]);
        let east = decode(LONG_RANGE, LAT_RANGE, n[2]);
        assert_eq!(north.latitude.min, a.latitude.max);
        assert_eq!(east.longitude.min, a.longitude.max);
    }

    #[test]
    fn odd_scores_convert_as_gcc_does() {
        assert_eq!(score_to_bits(-1.5), u64::MAX);
        assert_eq!(score_to_bits(f64::INFINITY), 0);
        assert_eq!(score_to_bits(f64::NEG_INFINITY), 1 << 63);
        assert_eq!(score_to_bits(9_223_372_036_854_775_808.0), 1 << 63);
    }
}
