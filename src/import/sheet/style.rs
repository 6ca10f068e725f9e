//! The colours spreadsheet cells show, worked out from the parts of the file that
//! calamine does not interpret the way Excel and LibreOffice display them: Excel's
//! `styles.xml` fills with their theme colours, tints and legacy palette, and the
//! background colours of OpenDocument cell styles. `sheet` uses it to give every cell
//! the fill a person sees, which is often the only place a plan records RAG status.
//!
//! It only reports colours. It never decides what a colour means, never touches the
//! ledger, and refuses a damaged part as a whole instead of guessing at part of it.
//! It also holds the small XML helpers both spreadsheet readers share beyond those
//! in `office`: the kind of spreadsheet for messages, on/off attributes, and parts
//! walked or decoded with a damaged part refused in the program's own words.

use std::collections::HashMap;
use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::super::grid::{Rgb, Unreadable};
use super::super::office::{
    self, attribute, first_colour_scheme, local_name, number_attribute, SchemeColour,
};

/// Which kind of spreadsheet is being read, for messages that name the program the
/// user should open it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SpreadsheetKind {
    Excel,
    OpenDocument,
}

impl SpreadsheetKind {
    /// What a damaged part means and what the user can do about it.
    pub(super) fn damaged(self, part: &str, error: impl std::fmt::Display) -> Unreadable {
        match self {
            SpreadsheetKind::Excel => Unreadable::new(format!(
                "the workbook is damaged ({part}: {error}); open it in Excel, save it again \
                 as .xlsx and import again"
            )),
            SpreadsheetKind::OpenDocument => Unreadable::new(format!(
                "the spreadsheet is damaged ({part}: {error}); open it in LibreOffice Calc, \
                 save it again as .ods and import again"
            )),
        }
    }
}

/// An OOXML on/off attribute such as `hidden="1"` or `customFormat="true"`.
pub(super) fn flag_attribute(element: &BytesStart, local_name: &str) -> bool {
    matches!(
        attribute(element, local_name).as_deref().map(str::trim),
        Some("1" | "true" | "on")
    )
}

/// Walks a small, fully read part (see [`office::walk_part`]), refusing it as
/// damaged if it is not well-formed XML.
pub(super) fn walk_part(
    kind: SpreadsheetKind,
    part: &str,
    xml: &str,
    mut visit: impl FnMut(&[String], &BytesStart),
) -> Result<(), Unreadable> {
    office::walk_part(xml, |ancestors, element, _| visit(ancestors, element))
        .map_err(|error| kind.damaged(part, error))
}

/// Decodes a part's bytes as the UTF-8 that Excel and LibreOffice write.
pub(super) fn part_text(
    kind: SpreadsheetKind,
    part: &str,
    bytes: Vec<u8>,
) -> Result<String, Unreadable> {
    let bytes = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|error| kind.damaged(part, error))
}

/// The colours of the Office theme that Excel 2013 and later use when a workbook
/// carries no theme of its own, in Excel's theme index order.
pub(super) const OFFICE_THEME: [Rgb; 12] = [
    Rgb(0xFF, 0xFF, 0xFF), // 0 lt1
    Rgb(0x00, 0x00, 0x00), // 1 dk1
    Rgb(0xE7, 0xE6, 0xE6), // 2 lt2
    Rgb(0x44, 0x54, 0x6A), // 3 dk2
    Rgb(0x44, 0x72, 0xC4), // 4 accent1
    Rgb(0xED, 0x7D, 0x31), // 5 accent2
    Rgb(0xA5, 0xA5, 0xA5), // 6 accent3
    Rgb(0xFF, 0xC0, 0x00), // 7 accent4
    Rgb(0x5B, 0x9B, 0xD5), // 8 accent5
    Rgb(0x70, 0xAD, 0x47), // 9 accent6
    Rgb(0x05, 0x63, 0xC1), // 10 hlink
    Rgb(0x95, 0x4F, 0x72), // 11 folHlink
];

/// The theme's colour slots by Excel's theme index. The theme part lists dark before
/// light, but Excel numbers light first: index 0 is `lt1`, 1 is `dk1`.
const THEME_SLOTS: [&str; 12] = [
    "lt1", "dk1", "lt2", "dk2", "accent1", "accent2", "accent3", "accent4", "accent5", "accent6",
    "hlink", "folHlink",
];

/// Excel's legacy 64-colour palette (ECMA-376 §18.8.27), used by `indexed` colours
/// unless the workbook supplies its own `indexedColors`.
const LEGACY_PALETTE: [u32; 64] = [
    0x000000, 0xFFFFFF, 0xFF0000, 0x00FF00, 0x0000FF, 0xFFFF00, 0xFF00FF, 0x00FFFF, 0x000000,
    0xFFFFFF, 0xFF0000, 0x00FF00, 0x0000FF, 0xFFFF00, 0xFF00FF, 0x00FFFF, 0x800000, 0x008000,
    0x000080, 0x808000, 0x800080, 0x008080, 0xC0C0C0, 0x808080, 0x9999FF, 0x993366, 0xFFFFCC,
    0xCCFFFF, 0x660066, 0xFF8080, 0x0066CC, 0xCCCCFF, 0x000080, 0xFF00FF, 0xFFFF00, 0x00FFFF,
    0x800080, 0x800000, 0x008080, 0x0000FF, 0x00CCFF, 0xCCFFFF, 0xCCFFCC, 0xFFFF99, 0x99CCFF,
    0xFF99CC, 0xCC99FF, 0xFFCC99, 0x3366FF, 0x33CCCC, 0x99CC00, 0xFFCC00, 0xFF9900, 0xFF6600,
    0x666699, 0x969696, 0x003366, 0x339966, 0x003300, 0x333300, 0x993300, 0x993366, 0x333399,
    0x333333,
];

fn rgb_from_u32(value: u32) -> Rgb {
    Rgb((value >> 16) as u8, (value >> 8) as u8, value as u8)
}

/// Reads the first colour scheme of an Excel theme part into Excel's theme index
/// order; slots the theme leaves out keep the Office theme's colour.
pub(super) fn read_excel_theme(part: &str, xml: &str) -> Result<[Rgb; 12], Unreadable> {
    let mut colours = OFFICE_THEME;
    let scheme =
        first_colour_scheme(xml).map_err(|error| SpreadsheetKind::Excel.damaged(part, error))?;
    for (slot, colour) in scheme {
        let value = match colour {
            SchemeColour::Rgb(value) => value,
            // A system colour records the colour it last had, which is what Excel shows.
            SchemeColour::System { last, name } => last.or_else(|| match name.as_deref() {
                Some("windowText") => Some("000000".to_string()),
                Some("window") => Some("FFFFFF".to_string()),
                _ => None,
            }),
        };
        let index = THEME_SLOTS.iter().position(|candidate| *candidate == slot);
        if let (Some(index), Some(rgb)) = (index, value.as_deref().and_then(Rgb::from_hex)) {
            colours[index] = rgb;
        }
    }
    Ok(colours)
}

/// One colour reference as Excel stores it: in `fgColor`, `bgColor` or a gradient stop.
#[derive(Debug, Clone, Default, PartialEq)]
struct ColourReference {
    automatic: bool,
    rgb: Option<String>,
    theme: Option<u64>,
    indexed: Option<u64>,
    tint: f64,
}

impl ColourReference {
    fn read(element: &BytesStart) -> ColourReference {
        ColourReference {
            automatic: flag_attribute(element, "auto"),
            rgb: attribute(element, "rgb"),
            theme: number_attribute::<u64>(element, "theme"),
            indexed: number_attribute::<u64>(element, "indexed"),
            tint: attribute(element, "tint")
                .and_then(|tint| tint.trim().parse::<f64>().ok())
                .filter(|tint| tint.is_finite())
                .map_or(0.0, |tint| tint.clamp(-1.0, 1.0)),
        }
    }

    /// The colour Excel shows for this reference. `auto` and the system colours of
    /// the palette (64 and above) mean "no colour of its own" for a fill.
    fn resolve(&self, theme: &[Rgb; 12], palette: &[Rgb]) -> Option<Rgb> {
        if self.automatic {
            return None;
        }
        // A theme colour wins over an `rgb` written beside it, which writers add
        // only as a fallback for programs that do not read themes.
        let base = self
            .theme
            .and_then(|index| usize::try_from(index).ok())
            .and_then(|index| theme.get(index).copied())
            .or_else(|| self.rgb.as_deref().and_then(Rgb::from_hex))
            .or_else(|| {
                self.indexed
                    .and_then(|index| usize::try_from(index).ok())
                    .and_then(|index| palette.get(index).copied())
            })?;
        Some(apply_tint(base, self.tint))
    }
}

/// Lightens (positive) or darkens (negative) a colour by a tint the way Excel does
/// (ECMA-376 §18.8.19): in HLS with HLSMAX 255, luminance is scaled towards black
/// or moved towards white and everything is rounded to whole HLS units as Excel's
/// integer conversion does. The result agrees with Excel's own theme palette to
/// within one unit per channel.
pub(super) fn apply_tint(colour: Rgb, tint: f64) -> Rgb {
    const HLS_MAX: f64 = 255.0;
    if tint == 0.0 || !tint.is_finite() {
        return colour;
    }
    let (hue, luminance, saturation) = rgb_to_hls(colour);
    let hue = (hue * HLS_MAX).round();
    let saturation = (saturation * HLS_MAX).round();
    let luminance = (luminance * HLS_MAX).round();
    let luminance = if tint < 0.0 {
        (luminance * (1.0 + tint)).round()
    } else {
        (luminance * (1.0 - tint) + (HLS_MAX - HLS_MAX * (1.0 - tint))).round()
    };
    hls_to_rgb(
        hue / HLS_MAX,
        (luminance / HLS_MAX).clamp(0.0, 1.0),
        saturation / HLS_MAX,
    )
}

/// Hue, luminance and saturation, each from 0 to 1.
fn rgb_to_hls(colour: Rgb) -> (f64, f64, f64) {
    let [red, green, blue] = [colour.0, colour.1, colour.2].map(|c| f64::from(c) / 255.0);
    let max = red.max(green).max(blue);
    let min = red.min(green).min(blue);
    let luminance = (max + min) / 2.0;
    if max == min {
        return (0.0, luminance, 0.0);
    }
    let delta = max - min;
    let saturation = if luminance <= 0.5 {
        delta / (max + min)
    } else {
        delta / (2.0 - max - min)
    };
    let hue = if red == max {
        (green - blue) / delta
    } else if green == max {
        2.0 + (blue - red) / delta
    } else {
        4.0 + (red - green) / delta
    };
    ((hue / 6.0).rem_euclid(1.0), luminance, saturation)
}

fn hls_to_rgb(hue: f64, luminance: f64, saturation: f64) -> Rgb {
    let channel = |value: f64| (value * 255.0).round().clamp(0.0, 255.0) as u8;
    if saturation == 0.0 {
        let grey = channel(luminance);
        return Rgb(grey, grey, grey);
    }
    let high = if luminance <= 0.5 {
        luminance * (1.0 + saturation)
    } else {
        luminance + saturation - luminance * saturation
    };
    let low = 2.0 * luminance - high;
    let component = |hue: f64| {
        let hue = hue.rem_euclid(1.0);
        if hue < 1.0 / 6.0 {
            low + (high - low) * hue * 6.0
        } else if hue < 0.5 {
            high
        } else if hue < 2.0 / 3.0 {
            low + (high - low) * (2.0 / 3.0 - hue) * 6.0
        } else {
            low
        }
    };
    Rgb(
        channel(component(hue + 1.0 / 3.0)),
        channel(component(hue)),
        channel(component(hue - 1.0 / 3.0)),
    )
}

/// One `<fill>` of `styles.xml` as written, before its colours are resolved.
#[derive(Debug, Default)]
struct FillRecord {
    pattern: Option<String>,
    foreground: Option<ColourReference>,
    background: Option<ColourReference>,
    gradient: bool,
    first_stop: Option<ColourReference>,
}

impl FillRecord {
    fn resolve(&self, theme: &[Rgb; 12], palette: &[Rgb]) -> Option<Rgb> {
        if self.gradient {
            // A gradient has no single colour; its first stop is the one that
            // dominates the cell's left or top edge and stands for the whole.
            return self.first_stop.as_ref()?.resolve(theme, palette);
        }
        // A pattern fill without a pattern type shows nothing, as in Excel.
        match self.pattern.as_deref().map(str::trim) {
            None | Some("none" | "") => None,
            Some(_) => {
                let resolve = |colour: &Option<ColourReference>| {
                    colour.as_ref().and_then(|c| c.resolve(theme, palette))
                };
                resolve(&self.foreground).or_else(|| resolve(&self.background))
            }
        }
    }
}

/// The fill colour of each cell format (`cellXfs` entry) of a workbook.
#[derive(Debug, Default)]
pub(super) struct ExcelStyles {
    fill_by_format: Vec<Option<Rgb>>,
}

impl ExcelStyles {
    /// The fill of the cell format a cell's `s` attribute names; formats the
    /// workbook does not define show no fill.
    pub(super) fn fill(&self, format: usize) -> Option<Rgb> {
        self.fill_by_format.get(format).copied().flatten()
    }
}

/// Reads the fills and cell formats of `styles.xml`, resolving their colours against
/// the workbook's theme.
pub(super) fn read_excel_styles(
    part: &str,
    xml: &str,
    theme: &[Rgb; 12],
) -> Result<ExcelStyles, Unreadable> {
    let mut fills: Vec<FillRecord> = Vec::new();
    let mut fill_ids: Vec<usize> = Vec::new();
    let mut custom_palette: Vec<Rgb> = Vec::new();
    walk_part(SpreadsheetKind::Excel, part, xml, |ancestors, element| {
        let name = local_name(element);
        let path: Vec<&str> = ancestors.iter().map(String::as_str).collect();
        match (path.as_slice(), name.as_str()) {
            ([_, "fills"], "fill") => fills.push(FillRecord::default()),
            ([_, "fills", "fill"], "patternFill") => {
                if let Some(fill) = fills.last_mut() {
                    fill.pattern = attribute(element, "patternType");
                }
            }
            ([_, "fills", "fill", "patternFill"], "fgColor") => {
                if let Some(fill) = fills.last_mut() {
                    fill.foreground = Some(ColourReference::read(element));
                }
            }
            ([_, "fills", "fill", "patternFill"], "bgColor") => {
                if let Some(fill) = fills.last_mut() {
                    fill.background = Some(ColourReference::read(element));
                }
            }
            ([_, "fills", "fill"], "gradientFill") => {
                if let Some(fill) = fills.last_mut() {
                    fill.gradient = true;
                }
            }
            ([_, "fills", "fill", "gradientFill", "stop"], "color") => {
                if let Some(fill) = fills.last_mut() {
                    if fill.first_stop.is_none() {
                        fill.first_stop = Some(ColourReference::read(element));
                    }
                }
            }
            ([_, "cellXfs"], "xf") => {
                let fill_id = number_attribute::<u64>(element, "fillId")
                    .and_then(|id| usize::try_from(id).ok())
                    .unwrap_or(0);
                fill_ids.push(fill_id);
            }
            ([_, "colors", "indexedColors"], "rgbColor") => {
                let rgb = attribute(element, "rgb").as_deref().and_then(Rgb::from_hex);
                custom_palette.push(rgb.unwrap_or(Rgb(0, 0, 0)));
            }
            _ => {}
        }
    })?;
    let palette: Vec<Rgb> = if custom_palette.is_empty() {
        LEGACY_PALETTE.iter().copied().map(rgb_from_u32).collect()
    } else {
        // A workbook's own palette replaces the legacy one entry by entry, and never
        // reaches the system colours from 64 on.
        custom_palette.truncate(64);
        custom_palette
    };
    let resolved: Vec<Option<Rgb>> = fills
        .iter()
        .map(|fill| fill.resolve(theme, &palette))
        .collect();
    Ok(ExcelStyles {
        fill_by_format: fill_ids
            .iter()
            .map(|&id| resolved.get(id).copied().flatten())
            .collect(),
    })
}

/// One OpenDocument cell style: what it sets itself and which style it inherits from.
#[derive(Debug, Default)]
struct OdsCellStyle {
    parent: Option<String>,
    /// `Some(None)` when the style sets its background to transparent.
    background: Option<Option<Rgb>>,
    /// The style changes with the cell's value (`style:map`).
    conditional: bool,
}

/// The cell styles of an OpenDocument spreadsheet, common (`styles.xml`) and
/// automatic (`content.xml`) together, by name.
#[derive(Debug, Default)]
pub(super) struct OdsCellStyles {
    styles: HashMap<String, OdsCellStyle>,
}

/// How many parent styles are followed before giving up on a loop of parents.
const STYLE_DEPTH_LIMIT: usize = 32;

impl OdsCellStyles {
    /// The background a cell with this style shows, following parent styles.
    pub(super) fn background(&self, name: &str) -> Option<Rgb> {
        let mut current = self.styles.get(name);
        for _ in 0..STYLE_DEPTH_LIMIT {
            let style = current?;
            if let Some(background) = style.background {
                return background;
            }
            current = self.styles.get(style.parent.as_deref()?);
        }
        None
    }

    /// Whether the style, or one it inherits from, changes with the cell's value.
    pub(super) fn is_conditional(&self, name: &str) -> bool {
        let mut current = self.styles.get(name);
        for _ in 0..STYLE_DEPTH_LIMIT {
            let Some(style) = current else {
                return false;
            };
            if style.conditional {
                return true;
            }
            current = style
                .parent
                .as_deref()
                .and_then(|parent| self.styles.get(parent));
        }
        false
    }

    /// Reads the cell styles from the reader's position up to the end of the element
    /// named `until` (a local name such as "automatic-styles"), or to the end of the
    /// part when `until` is `None`.
    pub(super) fn read<R: BufRead>(
        &mut self,
        reader: &mut Reader<R>,
        buffer: &mut Vec<u8>,
        until: Option<&str>,
    ) -> Result<(), quick_xml::Error> {
        let mut current: Option<(String, OdsCellStyle)> = None;
        let mut depth = 0usize;
        loop {
            buffer.clear();
            let event = reader.read_event_into(buffer)?;
            let (element, opens) = match &event {
                Event::Start(element) => (Some(element), true),
                Event::Empty(element) => (Some(element), false),
                Event::End(end) => {
                    let name = end.local_name().as_ref().to_string();
                    if depth == 0 && until == Some(name.as_str()) {
                        return Ok(());
                    }
                    depth = depth.saturating_sub(1);
                    if name == "style" {
                        if let Some((name, style)) = current.take() {
                            self.styles.insert(name, style);
                        }
                    }
                    continue;
                }
                Event::Eof => return Ok(()),
                _ => continue,
            };
            let Some(element) = element else {
                continue;
            };
            let name = local_name(element);
            match name.as_str() {
                "style" => {
                    let family = attribute(element, "family");
                    if let (Some("table-cell"), Some(style_name)) =
                        (family.as_deref(), attribute(element, "name"))
                    {
                        let style = OdsCellStyle {
                            parent: attribute(element, "parent-style-name"),
                            ..OdsCellStyle::default()
                        };
                        if opens {
                            current = Some((style_name, style));
                        } else {
                            self.styles.insert(style_name, style);
                        }
                    }
                }
                "table-cell-properties" => {
                    if let (Some((_, style)), Some(colour)) =
                        (current.as_mut(), attribute(element, "background-color"))
                    {
                        style.background = Some(match colour.trim() {
                            "transparent" => None,
                            colour => Rgb::from_hex(colour),
                        });
                    }
                }
                "map" => {
                    if let Some((_, style)) = current.as_mut() {
                        style.conditional = true;
                    }
                }
                _ => {}
            }
            if opens {
                depth += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn hex(text: &str) -> Rgb {
        Rgb::from_hex(text).unwrap()
    }

    /// Excel's stored tints for its palette's "Lighter 80%" … "Darker 50%" choices.
    const LIGHTER_80: f64 = 0.799_981_688_894_314_4;
    const LIGHTER_60: f64 = 0.599_993_896_298_104_9;
    const LIGHTER_40: f64 = 0.399_975_585_192_419_2;
    const DARKER_25: f64 = -0.249_977_111_117_893;
    const DARKER_50: f64 = -0.499_984_740_745_262;

    #[test]
    fn tints_match_excel_exactly_where_excel_is_known_exactly() {
        // Green, Accent 6, Lighter 60% and the greys of the first theme column, as
        // Excel's colour picker reports them.
        assert_eq!(apply_tint(hex("70AD47"), LIGHTER_60), hex("C6E0B4"));
        assert_eq!(
            apply_tint(hex("FFFFFF"), -0.049_989_318_521_683_4),
            hex("F2F2F2")
        );
        assert_eq!(
            apply_tint(hex("FFFFFF"), -0.149_998_474_074_526_2),
            hex("D9D9D9")
        );
        assert_eq!(apply_tint(hex("FFFFFF"), DARKER_25), hex("BFBFBF"));
        assert_eq!(
            apply_tint(hex("000000"), 0.349_986_266_670_735_8),
            hex("595959")
        );
        assert_eq!(apply_tint(hex("4472C4"), 0.0), hex("4472C4"));
    }

    #[test]
    fn tints_stay_within_one_unit_of_excels_palette() {
        let palette = [
            ("4472C4", LIGHTER_80, "D9E1F2"),
            ("4472C4", LIGHTER_60, "B4C6E7"),
            ("4472C4", LIGHTER_40, "8EA9DB"),
            ("4472C4", DARKER_25, "2F5597"),
            ("4472C4", DARKER_50, "203764"),
            ("70AD47", LIGHTER_80, "E2EFDA"),
            ("70AD47", LIGHTER_40, "A9D08E"),
            ("70AD47", DARKER_25, "548235"),
            ("70AD47", DARKER_50, "375623"),
            ("ED7D31", LIGHTER_80, "FCE4D6"),
            ("ED7D31", LIGHTER_60, "F8CBAD"),
            ("ED7D31", DARKER_50, "833C0C"),
            ("5B9BD5", LIGHTER_80, "DDEBF7"),
            ("5B9BD5", LIGHTER_60, "BDD7EE"),
            ("FFC000", LIGHTER_80, "FFF2CC"),
            ("FFC000", LIGHTER_40, "FFD966"),
            ("A5A5A5", LIGHTER_80, "EDEDED"),
            ("44546A", LIGHTER_60, "ACB9CA"),
            ("E7E6E6", -0.749_992_370_372_631, "3A3838"),
        ];
        for (base, tint, expected) in palette {
            let got = apply_tint(hex(base), tint);
            let expected = hex(expected);
            let distance = [
                got.0.abs_diff(expected.0),
                got.1.abs_diff(expected.1),
                got.2.abs_diff(expected.2),
            ];
            assert!(
                distance.iter().all(|&d| d <= 1),
                "{base} tint {tint}: got {got}, Excel shows {expected}"
            );
        }
    }

    #[test]
    fn a_theme_overrides_the_office_colours_slot_by_slot() {
        let xml = r#"<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:themeElements><a:clrScheme name="Custom"><a:dk1><a:sysClr val="windowText" lastClr="111111"/></a:dk1><a:lt1><a:sysClr val="window"/></a:lt1><a:accent1><a:srgbClr val="123456"/></a:accent1></a:clrScheme><a:clrScheme name="Other"><a:accent2><a:srgbClr val="654321"/></a:accent2></a:clrScheme></a:themeElements></a:theme>"#;
        let theme = read_excel_theme("xl/theme/theme1.xml", xml).unwrap();
        assert_eq!(theme[0], hex("FFFFFF"));
        assert_eq!(theme[1], hex("111111"));
        assert_eq!(theme[4], hex("123456"));
        assert_eq!(theme[5], hex("ED7D31"));
        assert!(read_excel_theme("xl/theme/theme1.xml", "<a:theme><a:clrScheme").is_err());
    }

    #[test]
    fn opendocument_styles_inherit_backgrounds_and_conditions() {
        let xml = r##"<office:document-styles xmlns:office="o" xmlns:style="s" xmlns:fo="f"><office:styles><style:style style:name="Good" style:family="table-cell"><style:table-cell-properties fo:background-color="#ccffcc"/></style:style><style:style style:name="Clear" style:family="table-cell" style:parent-style-name="Good"><style:table-cell-properties fo:background-color="transparent"/></style:style><style:style style:name="Loop" style:family="table-cell" style:parent-style-name="Loop"/><style:style style:name="ce1" style:family="table-cell" style:parent-style-name="Good"><style:map style:condition="cell-content()=1" style:apply-style-name="Good"/></style:style><style:style style:name="ro1" style:family="table-row"><style:table-row-properties fo:background-color="#ff0000"/></style:style></office:styles></office:document-styles>"##;
        let mut styles = OdsCellStyles::default();
        let mut reader = Reader::from_str(xml);
        styles.read(&mut reader, &mut Vec::new(), None).unwrap();
        assert_eq!(styles.background("Good"), Some(hex("CCFFCC")));
        assert_eq!(styles.background("ce1"), Some(hex("CCFFCC")));
        assert_eq!(styles.background("Clear"), None);
        assert_eq!(styles.background("Loop"), None);
        assert_eq!(styles.background("ro1"), None);
        assert!(styles.is_conditional("ce1"));
        assert!(!styles.is_conditional("Good"));
        assert!(!styles.is_conditional("Loop"));
    }
}
