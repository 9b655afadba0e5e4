//! Text on the PNG charts, glyph by glyph.
//!
//! plotters 0.3.7's `ab_glyph` text path puts each glyph's bitmap at the pen position without
//! the glyph's left side bearing, so letters with a wide or negative bearing drift: `ms` reads
//! `m s`, `objects` reads `ob jects`. [`GlyphExact`] wraps the bitmap backend and draws text
//! itself, with ab_glyph and the same embedded DejaVu Sans, each glyph where the font puts it
//! (pen position, kerning, side bearing). Everything else is the bitmap backend's. Widths are
//! the same sums of advances and kerning that plotters measures with, so label areas still fit.

use std::path::Path;
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::backend::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind, FontStyle,
};

/// The error type of the wrapped bitmap backend.
type BitMapError = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

/// A PNG file backend whose text is placed glyph by glyph.
pub struct GlyphExact<'a> {
    inner: BitMapBackend<'a>,
}

impl<'a> GlyphExact<'a> {
    pub fn new(path: &'a Path, size: (u32, u32)) -> Self {
        GlyphExact { inner: BitMapBackend::new(path, size) }
    }

    #[cfg(test)]
    pub fn with_buffer(buffer: &'a mut [u8], size: (u32, u32)) -> Self {
        GlyphExact { inner: BitMapBackend::with_buffer(buffer, size) }
    }
}

/// DejaVu Sans, regular and bold, parsed once.
fn embedded_font(style: FontStyle) -> &'static FontRef<'static> {
    static FONTS: OnceLock<[FontRef<'static>; 2]> = OnceLock::new();
    let fonts = FONTS.get_or_init(|| {
        [dejavu::sans::regular(), dejavu::sans::bold()]
            .map(|bytes| FontRef::try_from_slice(bytes).expect("DejaVu Sans is a valid font"))
    });
    match style {
        FontStyle::Bold => &fonts[1],
        _ => &fonts[0],
    }
}

/// Pixels of `text` laid out with its box's top left corner at (0, 0): (x, y, coverage), and
/// the box's width and height (advances and kerning across; ascent to descent down).
fn rasterize(text: &str, style: FontStyle, size: f64) -> (Vec<(i32, i32, f32)>, i32, i32) {
    let font = embedded_font(style);
    let scale = PxScale::from(size as f32);
    let scaled = font.as_scaled(scale);
    let mut pixels = Vec::new();
    let mut caret = 0.0f32;
    let mut previous = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(previous) = previous {
            caret += scaled.kern(previous, id);
        }
        previous = Some(id);
        let glyph = id.with_scale_and_position(scale, point(caret, scaled.ascent()));
        caret += scaled.h_advance(id);
        if let Some(outline) = font.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            outline.draw(|x, y, coverage| {
                if coverage > 0.0 {
                    pixels.push((bounds.min.x as i32 + x as i32, bounds.min.y as i32 + y as i32, coverage));
                }
            });
        }
    }
    let height = (scaled.ascent() - scaled.descent()).round() as i32;
    (pixels, caret.round() as i32, height)
}

impl DrawingBackend for GlyphExact<'_> {
    type ErrorType = BitMapError;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.fill_polygon(vertices, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let (pixels, width, height) = rasterize(text, style.style(), style.size());
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Center => -width / 2,
            HPos::Right => -width,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (w, h) = self.get_size();
        for (x, y, coverage) in pixels {
            let (x, y) = transform.transform(x + dx, y + dy);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && y >= 0 && x < w as i32 && y < h as i32 {
                let alpha = color.alpha * f64::from(coverage.min(1.0));
                self.inner.draw_pixel((x, y), BackendColor { alpha, rgb: color.rgb })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};

    use super::*;

    /// The columns that hold ink, in a white RGB buffer `width` pixels wide.
    fn inked_columns(pixels: &[u8], width: u32) -> Vec<u32> {
        let mut columns: Vec<u32> = pixels
            .chunks(3)
            .enumerate()
            .filter(|(_, p)| p.iter().all(|c| *c < 160))
            .map(|(i, _)| i as u32 % width)
            .collect();
        columns.sort_unstable();
        columns.dedup();
        columns
    }

    /// Draws `text` with `anchor` at `at` on a white 300 × 60 canvas; returns the inked columns.
    fn draw(text: &str, anchor: Pos, at: (i32, i32)) -> Vec<u32> {
        crate::report::charts::register_embedded_font().unwrap();
        let (width, height) = (300u32, 60u32);
        let mut pixels = vec![255u8; (width * height * 3) as usize];
        {
            let root = GlyphExact::with_buffer(&mut pixels, (width, height)).into_drawing_area();
            root.draw(&Text::new(text, at, ("sans-serif", 30).into_font().color(&BLACK).pos(anchor))).unwrap();
            root.present().unwrap();
        }
        inked_columns(&pixels, width)
    }

    #[test]
    fn each_glyph_keeps_its_side_bearing() {
        // DejaVu's "1" starts well right of its pen position; plotters' own path drew it at the
        // pen position, which is what pulled "m" and "s" apart in "ms".
        let scaled = embedded_font(FontStyle::Normal).as_scaled(PxScale::from(30.0));
        let bearing = scaled.h_side_bearing(scaled.glyph_id('1'));
        assert!(bearing > 2.0, "the test needs a glyph with a wide bearing: {bearing}");
        let columns = draw("1", Pos::new(HPos::Left, VPos::Center), (10, 30));
        assert!(columns[0].abs_diff(10 + bearing.round() as u32) <= 1, "ink from {}, bearing {bearing}", columns[0]);
    }

    #[test]
    fn text_is_centred_on_its_anchor() {
        let columns = draw("ms objects", Pos::new(HPos::Center, VPos::Center), (150, 30));
        let (first, last) = (columns[0], *columns.last().unwrap());
        assert!(((first + last) / 2).abs_diff(150) <= 3, "centred on x = 150: ink spans {first}..={last}");
    }
}
