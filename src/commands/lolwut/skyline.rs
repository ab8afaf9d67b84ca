//! LOLWUT VERSION 6 [columns] [rows] (lolwut6.c): a city skyline in the four grays of a color
//! terminal, lighter skyscrapers behind, windows lit at random in front.

use bytes::Bytes;

use super::canvas::Canvas;
use super::{c_rand, numbers};
use crate::protocol::Reply;

/// The picture and its caption, up to the version.
pub fn render(args: &[Bytes]) -> Result<String, Reply> {
    let [cols, rows] = numbers(args, [80, 20])?;
    let mut canvas = Canvas::new(cols.clamp(1, 1000) as i32, rows.clamp(1, 1000) as i32, 3);
    skyline(&mut canvas);
    Ok(format!(
        "{}\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. ",
        colors(&canvas)
    ))
}

struct Skyscraper {
    xoff: i32,
    width: i32,
    height: i32,
    windows: bool,
    color: u8,
}

/// generateSkyscraper: the roof two pixels narrower on each side, windows two pixels wide.
fn skyscraper(canvas: &mut Canvas, si: &Skyscraper) {
    let starty = canvas.height - 1;
    let endy = starty - si.height + 1;
    let mut y = starty;
    while y >= endy {
        for x in si.xoff..si.xoff + si.width {
            if y == endy && (x <= si.xoff + 1 || x >= si.xoff + si.width - 2) {
                continue;
            }
            let mut color = si.color;
            if si.windows && x > si.xoff + 1 && x < si.xoff + si.width - 2 && y > endy + 1 && y < starty - 1 {
                let relx = x - (si.xoff + 1);
                let rely = y - (endy + 1);
                if (relx / 2) % 2 != 0 && rely % 2 != 0 {
                    loop {
                        color = 1 + (c_rand() % 2) as u8;
                        if color != si.color {
                            break;
                        }
                    }
                    // The two pixels of one window share its colour.
                    if relx % 2 != 0 {
                        color = canvas.get_pixel(x - 1, y);
                    }
                }
            }
            canvas.draw_pixel(x, y, color);
        }
        y -= 1;
    }
}

/// generateSkyline: two passes of window-less grays behind, then the black ones with windows.
fn skyline(canvas: &mut Canvas) {
    let h = canvas.height;
    for color in [2u8, 1] {
        let mut offset = -10;
        while offset < canvas.width {
            offset += c_rand() % 8;
            let width = 10 + c_rand() % 9;
            let height = if color == 2 { h / 2 + (c_rand() % h) / 2 } else { h / 2 + (c_rand() % h) / 3 };
            skyscraper(canvas, &Skyscraper { xoff: offset, width, height, windows: false, color });
            offset += if color == 2 { width / 2 } else { width + 1 };
        }
    }
    let mut offset = -10;
    while offset < canvas.width {
        offset += c_rand() % 8;
        let mut width = 5 + c_rand() % 14;
        if width % 4 != 0 {
            width += width % 3;
        }
        let height = h / 3 + (c_rand() % h) / 2;
        skyscraper(canvas, &Skyscraper { xoff: offset, width, height, windows: true, color: 0 });
        offset += width + 5;
    }
}

/// Each pixel as a space with its gray as both foreground and background.
fn colors(canvas: &Canvas) -> String {
    let mut text = String::new();
    for y in 0..canvas.height {
        for x in 0..canvas.width {
            let ce = match canvas.get_pixel(x, y) {
                1 => "0;90;100m",
                2 => "0;37;47m",
                3 => "0;97;107m",
                _ => "0;30;40m",
            };
            text.push_str("\x1b[");
            text.push_str(ce);
            text.push_str(" \x1b[0m");
        }
        if y != canvas.height - 1 {
            text.push('\n');
        }
    }
    text
}
