//! The colours a Word table shows: the document theme's colour scheme, a `w:shd`
//! shading resolved against it with Word's tint and shade, and the text highlight
//! colours some plans use for RAG instead of shading.
//!
//! It only reports colours. It never decides what a colour means: which colour is
//! "Red" belongs to `layout` and `status`.

use std::collections::HashMap;

use quick_xml::events::BytesStart;

use super::super::grid::{Rgb, Unreadable};
use super::super::office::{first_colour_scheme, SchemeColour};
use super::{attribute, damaged};

/// The document theme's colour scheme, by the names Word uses in `w:themeFill`.
#[derive(Debug, Default)]
pub(super) struct Theme {
    colours: HashMap<String, Rgb>,
}

pub(super) fn read_theme(xml: &str) -> Result<Theme, Unreadable> {
    let mut theme = Theme::default();
    let scheme =
        first_colour_scheme(xml).map_err(|error| damaged("word/theme/theme1.xml", error))?;
    for (slot, colour) in scheme {
        let value = match colour {
            SchemeColour::Rgb(value) => value,
            SchemeColour::System { last, .. } => last,
        };
        if let Some(rgb) = value.as_deref().and_then(Rgb::from_hex) {
            theme.colours.entry(slot).or_insert(rgb);
        }
    }
    Ok(theme)
}

impl Theme {
    /// Resolves Word's theme colour name with its tint or shade (hex bytes), the way
    /// Word computes them.
    fn colour(&self, name: &str, tint: Option<&str>, shade: Option<&str>) -> Option<Rgb> {
        let slot = match name {
            "dark1" | "text1" => "dk1",
            "light1" | "background1" => "lt1",
            "dark2" | "text2" => "dk2",
            "light2" | "background2" => "lt2",
            "hyperlink" => "hlink",
            "followedHyperlink" => "folHlink",
            other => other,
        };
        let colour = *self.colours.get(slot)?;
        let byte = |hex: Option<&str>| hex.and_then(|hex| u8::from_str_radix(hex.trim(), 16).ok());
        Some(tint_and_shade(colour, byte(tint), byte(shade)))
    }

    /// The colour a `w:shd` shows: the pattern colour when the pattern is solid,
    /// otherwise the fill; a theme colour wins over the hex Word saved beside it.
    pub(super) fn shading(&self, shd: &BytesStart) -> Option<Rgb> {
        let get = |name: &str| attribute(shd, name);
        match get("val").as_deref() {
            Some("nil") => return None,
            Some("solid") => {
                let themed = get("themeColor").and_then(|name| {
                    self.colour(
                        &name,
                        get("themeTint").as_deref(),
                        get("themeShade").as_deref(),
                    )
                });
                if let Some(colour) =
                    themed.or_else(|| get("color").as_deref().and_then(Rgb::from_hex))
                {
                    return Some(colour);
                }
            }
            _ => {}
        }
        let themed = get("themeFill").and_then(|name| {
            self.colour(
                &name,
                get("themeFillTint").as_deref(),
                get("themeFillShade").as_deref(),
            )
        });
        themed.or_else(|| get("fill").as_deref().and_then(Rgb::from_hex))
    }
}

/// Lightens (tint) or darkens (shade) a theme colour as Word does: in HSL, moving the
/// lightness towards white by `1 - tint/255` or scaling it by `shade/255`, then
/// truncating to whole bytes. This reproduces the hex Word saves beside a theme
/// colour (accent6 70AD47 at tint 99 is A8D08D), which mixing in RGB does not.
pub(super) fn tint_and_shade(colour: Rgb, tint: Option<u8>, shade: Option<u8>) -> Rgb {
    if tint.is_none() && shade.is_none() {
        return colour;
    }
    let [r, g, b] = [colour.0, colour.1, colour.2].map(|c| f64::from(c) / 255.0);
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    let mut lightness = (max + min) / 2.0;
    let delta = max - min;
    let (hue, saturation) = if delta == 0.0 {
        (0.0, 0.0)
    } else {
        let saturation = delta / (1.0 - (2.0 * lightness - 1.0).abs());
        let hue = match max {
            m if m == r => ((g - b) / delta).rem_euclid(6.0),
            m if m == g => (b - r) / delta + 2.0,
            _ => (r - g) / delta + 4.0,
        };
        (hue, saturation)
    };
    if let Some(tint) = tint {
        let kept = f64::from(tint) / 255.0;
        lightness = lightness * kept + (1.0 - kept);
    }
    if let Some(shade) = shade {
        lightness *= f64::from(shade) / 255.0;
    }
    let chroma = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let second = chroma * (1.0 - (hue.rem_euclid(2.0) - 1.0).abs());
    let (r, g, b) = match hue as u8 {
        0 => (chroma, second, 0.0),
        1 => (second, chroma, 0.0),
        2 => (0.0, chroma, second),
        3 => (0.0, second, chroma),
        4 => (second, 0.0, chroma),
        _ => (chroma, 0.0, second),
    };
    let offset = lightness - chroma / 2.0;
    // The small nudge keeps 191.0 from truncating to 190 through rounding error.
    let byte = |c: f64| ((c + offset) * 255.0 + 1e-6).floor().clamp(0.0, 255.0) as u8;
    Rgb(byte(r), byte(g), byte(b))
}

/// Word's text highlight colours, which some plans use for RAG instead of shading.
pub(super) fn highlight_colour(name: &str) -> Option<Rgb> {
    let hex = match name {
        "yellow" => "FFFF00",
        "green" => "00FF00",
        "cyan" => "00FFFF",
        "magenta" => "FF00FF",
        "blue" => "0000FF",
        "red" => "FF0000",
        "darkBlue" => "000080",
        "darkCyan" => "008080",
        "darkGreen" => "008000",
        "darkMagenta" => "800080",
        "darkRed" => "800000",
        "darkYellow" => "808000",
        "darkGray" => "808080",
        "lightGray" => "C0C0C0",
        "black" => "000000",
        "white" => "FFFFFF",
        _ => return None,
    };
    Rgb::from_hex(hex)
}
