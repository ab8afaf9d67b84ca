//! LOLWUT VERSION 5 [columns] [squares per row] [squares per column] (lolwut5.c): Georg Nees's
//! Schotter, rows of squares ever more rotated and displaced going down, drawn in braille
//! characters (2x4 pixels each).

use bytes::Bytes;

use super::canvas::Canvas;
use super::{c_rand, numbers};
use crate::protocol::Reply;

const RAND_MAX: f32 = i32::MAX as f32;

/// The picture and its caption, up to the version.
pub fn render(args: &[Bytes]) -> Result<String, Reply> {
    let [cols, per_row, per_col] = numbers(args, [66, 8, 12])?;
    let cols = cols.clamp(1, 1000) as i32;
    let per_row = per_row.clamp(1, 200) as i32;
    let per_col = per_col.clamp(1, 200) as i32;
    let canvas = draw(cols, per_row, per_col);
    Ok(format!("{}\nGeorg Nees - schotter, plotter on paper, 1968. ", braille(&canvas)))
}

/// lwDrawSchotter, with C's float arithmetic.
fn draw(console_cols: i32, per_row: i32, per_col: i32) -> Canvas {
    let canvas_width = console_cols * 2;
    let padding = if canvas_width > 4 { 2 } else { 0 };
    let side = (canvas_width - padding * 2) as f32 / per_row as f32;
    let canvas_height = (side * per_col as f32 + (padding * 2) as f32) as i32;
    let mut canvas = Canvas::new(canvas_width, canvas_height, 0);
    for y in 0..per_col {
        for x in 0..per_row {
            let mut sx = (x as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut sy = (y as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut angle = 0f32;
            // The first two rows stand still; below, the disorder grows with the row.
            if y > 1 {
                let mut r = [0f32; 3];
                for v in &mut r {
                    *v = c_rand() as f32 / RAND_MAX / per_col as f32 * y as f32;
                }
                for v in &mut r {
                    if c_rand() % 2 != 0 {
                        *v = -*v;
                    }
                }
                angle = r[0];
                sx = (sx as f32 + r[1] * side / 3.0) as i32;
                sy = (sy as f32 + r[2] * side / 3.0) as i32;
            }
            canvas.draw_square(sx, sy, side, angle, 1);
        }
    }
    canvas
}

/// Each 2x4 block of pixels as one braille character (U+2800 plus the dots' bits), a line per
/// four pixel rows; every line ends with a newline but one whose last pixel row is the canvas's.
fn braille(canvas: &Canvas) -> String {
    const DOTS: [(i32, i32, u32); 8] =
        [(0, 0, 0), (0, 1, 1), (0, 2, 2), (1, 0, 3), (1, 1, 4), (1, 2, 5), (0, 3, 6), (1, 3, 7)];
    let mut text = String::new();
    for y in (0..canvas.height).step_by(4) {
        for x in (0..canvas.width).step_by(2) {
            let byte = DOTS
                .iter()
                .filter(|&&(dx, dy, _)| canvas.get_pixel(x + dx, y + dy) != 0)
                .fold(0, |b, &(_, _, bit)| b | (1 << bit));
            text.push(char::from_u32(0x2800 + byte).unwrap_or(' '));
        }
        if y != canvas.height - 1 {
            text.push('\n');
        }
    }
    text
}
