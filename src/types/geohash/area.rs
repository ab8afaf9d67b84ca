//! What a search scans and keeps (geohash_helper.c): the step whose cells are about the size of
//! the search shape, the shape's cell and its neighbours minus those the shape cannot reach, and
//! the haversine distances that decide which points are inside.

use super::{decode, encode, neighbors, Area, HashBits, LAT_RANGE, LONG_RANGE};

/// Redis's earth radius (the quadratic mean radius of WGS-84), in meters.
pub const EARTH_RADIUS_M: f64 = 6372797.560856;

/// The largest Web Mercator coordinate, in meters.
const MERCATOR_MAX: f64 = 20037726.37;

/// Degrees to radians as Redis's D_R (M_PI / 180.0, folded at compile time to the same double).
const D_R: f64 = std::f64::consts::PI / 180.0;

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// The search area: a circle of `radius` or a box `width` by `height`, in the unit whose
/// conversion factor to meters is `conversion`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ShapeKind {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

/// A search shape around the point `xy` (longitude, latitude).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    pub xy: [f64; 2],
    pub conversion: f64,
    pub kind: ShapeKind,
}

impl Shape {
    /// The distance from the centre when the point at `xy` is inside the shape (geoWithinShape's
    /// tests), in meters.
    pub fn contains(&self, xy: [f64; 2]) -> Option<f64> {
        let [x1, y1] = self.xy;
        let [x2, y2] = xy;
        match self.kind {
            ShapeKind::Circle { radius } => {
                let d = distance(x1, y1, x2, y2);
                (d <= radius * self.conversion).then_some(d)
            }
            ShapeKind::Box { width, height } => {
                let (width_m, height_m) = (width * self.conversion, height * self.conversion);
                // The latitude distance is cheaper, so it is checked first.
                if lat_distance(y2, y1) > height_m / 2.0 {
                    return None;
                }
                if distance(x2, y2, x1, y2) > width_m / 2.0 {
                    return None;
                }
                Some(distance(x1, y1, x2, y2))
            }
        }
    }

    /// min longitude, min latitude, max longitude, max latitude (geohashBoundingBox). Towards a
    /// pole a degree of longitude is shorter, so the width is measured on the edge nearer to it.
    fn bounding_box(&self) -> [f64; 4] {
        let [longitude, latitude] = self.xy;
        let (height, width) = match self.kind {
            ShapeKind::Circle { radius } => (self.conversion * radius, self.conversion * radius),
            ShapeKind::Box { width, height } => (self.conversion * (height / 2.0), self.conversion * (width / 2.0)),
        };
        let lat_delta = rad_deg(height / EARTH_RADIUS_M);
        let long_delta_top = rad_deg(width / EARTH_RADIUS_M / deg_rad(latitude + lat_delta).cos());
        let long_delta_bottom = rad_deg(width / EARTH_RADIUS_M / deg_rad(latitude - lat_delta).cos());
        let long_delta = if latitude < 0.0 { long_delta_bottom } else { long_delta_top };
        [longitude - long_delta, latitude - lat_delta, longitude + long_delta, latitude + lat_delta]
    }

    /// The distance from the centre to the farthest point of the shape, in meters.
    fn radius_meters(&self) -> f64 {
        let r = match self.kind {
            ShapeKind::Circle { radius } => radius,
            ShapeKind::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        };
        r * self.conversion
    }
}

/// The cell precision for a search of `range_meters` around latitude `lat`
/// (geohashEstimateStepsByRadius).
fn estimate_steps_by_radius(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    // Cells are narrower towards the poles.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// The cells to scan for a shape (geohashCalculateAreasByShapeWGS84): the shape centre's cell,
/// then its eight neighbours in scan order, those the shape cannot reach zeroed.
pub fn search_areas(shape: &Shape) -> [HashBits; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = shape.bounding_box();
    let [longitude, latitude] = shape.xy;
    let mut steps = estimate_steps_by_radius(shape.radius_meters(), latitude);
    // The centre was validated (or decoded from a score), so it always encodes.
    let cell = |steps: u8| encode(LONG_RANGE, LAT_RANGE, longitude, latitude, steps).unwrap_or_default();
    let mut hash = cell(steps);
    let mut around = neighbors(hash);
    let area_of = |h: HashBits| -> Area { decode(LONG_RANGE, LAT_RANGE, h) };

    // Near a cell's edge the estimated step may leave part of the shape outside the neighbours:
    // then cells twice as large are used.
    let [north, south, east, west] = [area_of(around[0]), area_of(around[1]), area_of(around[2]), area_of(around[3])];
    let decrease_step = north.latitude.max < max_lat
        || south.latitude.min > min_lat
        || east.longitude.max < max_lon
        || west.longitude.min > min_lon;
    if steps > 1 && decrease_step {
        steps -= 1;
        hash = cell(steps);
        around = neighbors(hash);
    }
    let area = area_of(hash);

    // Neighbours the shape does not reach are not scanned.
    if steps >= 2 {
        // Indexes in `around`: N, S, E, W, NE, NW, SE, SW.
        let mut drop = |cells: [usize; 3]| cells.iter().for_each(|&i| around[i] = HashBits::ZERO);
        if area.latitude.min < min_lat {
            drop([1, 7, 6]);
        }
        if area.latitude.max > max_lat {
            drop([0, 4, 5]);
        }
        if area.longitude.min < min_lon {
            drop([3, 7, 5]);
        }
        if area.longitude.max > max_lon {
            drop([2, 6, 4]);
        }
    }
    let mut all = [HashBits::ZERO; 9];
    all[0] = hash;
    all[1..].copy_from_slice(&around);
    all
}

/// The distance along a meridian between two latitudes.
fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_M * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// The haversine great-circle distance between two points, in meters (geohashGetDistance).
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    // Same longitude: the haversine reduces to the latitude difference.
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palermo_catania_distance_is_redis_s() {
        // GEODIST Sicily Palermo Catania: "166274.1516" in Redis's docs.
        let p = super::super::decode_score(3479099956230698.0);
        let c = super::super::decode_score(3479447370796909.0);
        let d = distance(p[0], p[1], c[0], c[1]);
        assert!((d - 166274.1516).abs() < 0.0001, "{d}");
    }

    #[test]
    fn steps_shrink_with_the_radius() {
        assert_eq!(estimate_steps_by_radius(0.0, 0.0), 26);
        assert!(estimate_steps_by_radius(100.0, 0.0) > estimate_steps_by_radius(100_000.0, 0.0));
        assert_eq!(estimate_steps_by_radius(1e9, 0.0), 1);
    }
}
