//! LOLWUT's canvas (lolwut.c): pixels of a few colours, lines and rotated squares, with C's
//! float and double steps kept so that the same squares land on the same pixels.

/// Redis's literal for the square root of 2: its ten decimals, not the exact constant, decide
/// where the corners land.
#[allow(clippy::approx_constant)]
const REDIS_SQRT_2: f64 = 1.4142135623;

pub struct Canvas {
    pub width: i32,
    pub height: i32,
    pixels: Vec<u8>,
}

impl Canvas {
    pub fn new(width: i32, height: i32, bgcolor: u8) -> Canvas {
        let size = (width.max(0) as usize) * (height.max(0) as usize);
        Canvas { width, height, pixels: vec![bgcolor; size] }
    }

    fn index(&self, x: i32, y: i32) -> Option<usize> {
        (x >= 0 && x < self.width && y >= 0 && y < self.height).then(|| x as usize + y as usize * self.width as usize)
    }

    /// Outside the canvas nothing is drawn.
    pub fn draw_pixel(&mut self, x: i32, y: i32, color: u8) {
        if let Some(i) = self.index(x, y) {
            self.pixels[i] = color;
        }
    }

    /// Outside the canvas everything is colour 0.
    pub fn get_pixel(&self, x: i32, y: i32) -> u8 {
        self.index(x, y).map_or(0, |i| self.pixels[i])
    }

    /// Bresenham's line.
    fn draw_line(&mut self, mut x1: i32, mut y1: i32, x2: i32, y2: i32, color: u8) {
        let dx = (x2 - x1).abs();
        let dy = (y2 - y1).abs();
        let sx = if x1 < x2 { 1 } else { -1 };
        let sy = if y1 < y2 { 1 } else { -1 };
        let mut err = dx - dy;
        loop {
            self.draw_pixel(x1, y1, color);
            if x1 == x2 && y1 == y2 {
                break;
            }
            let e2 = err * 2;
            if e2 > -dy {
                err -= dy;
                x1 += sx;
            }
            if e2 < dx {
                err += dx;
                y1 += sy;
            }
        }
    }

    /// A square centred at x,y, rotated by `angle` (lwDrawSquare): its corners on a circle, as
    /// sin and cos of angles 90 degrees apart. `size` and the angle are C floats; the products
    /// are doubles.
    pub fn draw_square(&mut self, x: i32, y: i32, size: f32, angle: f32, color: u8) {
        let size = (f64::from(size) / REDIS_SQRT_2) as f32;
        let size = f64::from(size).round() as f32;
        let mut k = (std::f64::consts::PI / 4.0 + f64::from(angle)) as f32;
        let (mut px, mut py) = ([0i32; 4], [0i32; 4]);
        for j in 0..4 {
            px[j] = (f64::from(k).sin() * f64::from(size) + f64::from(x)).round() as i32;
            py[j] = (f64::from(k).cos() * f64::from(size) + f64::from(y)).round() as i32;
            k = (f64::from(k) + std::f64::consts::PI / 2.0) as f32;
        }
        for j in 0..4 {
            self.draw_line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color);
        }
    }
}
