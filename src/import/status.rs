//! Reading a RAG status from what a plan's status cell shows: a word ("Green",
//! "Complete – consultation done", "On track") or only a colour (a shaded Word cell,
//! a filled Excel cell).
//!
//! The legend says what each colour and word means. Its defaults are the colours
//! boards use (Green, Amber, Red, Grey = complete, Blue = carried over), read by
//! colour family (hue, or no saturation for grey) so that every tint a theme makes
//! of them counts, and the status names themselves; `--legend` changes or adds meanings. A word that is not
//! a status name ("On track", "Ongoing") is read as its nearest status and the
//! caller lists it as a warning, so a judgement is never silent.

use projections::Rag;

use super::grid::Rgb;

/// What a status cell's text said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusWord {
    pub status: Rag,
    /// The words that gave the status, as written.
    pub word: String,
    /// True when the word is not a status name but was read as its nearest status.
    pub judged: bool,
    /// The text after the status word ("Complete – consultation responses
    /// considered" → "consultation responses considered"): progress.
    pub rest: String,
    /// True when a dash or colon sets the word apart from the rest, or there is no
    /// rest: "Complete – done", not "Complete review of the audit".
    pub separated: bool,
}

/// What each word and colour means.
#[derive(Debug, Clone)]
pub struct Legend {
    /// Normalised phrases (lower case, words separated by single spaces), longest
    /// first so that "not on track" is found before "on track".
    words: Vec<(String, Rag, bool)>,
    families: Vec<(Family, Option<Rag>)>,
    /// `--legend "#RRGGBB=STATUS"` colours, which win over their family.
    exact: Vec<(Rgb, Rag)>,
}

/// Status names and the words plans use for them; `true` marks a judgement.
#[rustfmt::skip]
const WORDS: &[(&str, Rag, bool)] = &[
    ("green", Rag::Green, false), ("g", Rag::Green, false),
    ("amber", Rag::Amber, false), ("a", Rag::Amber, false),
    ("red", Rag::Red, false), ("r", Rag::Red, false),
    ("complete", Rag::Complete, false), ("completed", Rag::Complete, false),
    ("grey", Rag::Complete, false), ("gray", Rag::Complete, false),
    ("carried over", Rag::CarriedOver, false), ("carry over", Rag::CarriedOver, false),
    ("carried forward", Rag::CarriedOver, false), ("carry forward", Rag::CarriedOver, false),
    ("blue", Rag::CarriedOver, false),
    ("not started", Rag::NotStarted, false), ("not yet started", Rag::NotStarted, false),
    // Judgements: the nearest status, always reported.
    ("on track", Rag::Green, true), ("on target", Rag::Green, true), ("achieved", Rag::Complete, true),
    ("done", Rag::Complete, true), ("closed", Rag::Complete, true), ("finished", Rag::Complete, true),
    ("in progress", Rag::Amber, true), ("ongoing", Rag::Amber, true), ("on going", Rag::Amber, true),
    ("underway", Rag::Amber, true), ("under way", Rag::Amber, true), ("started", Rag::Amber, true),
    ("partially complete", Rag::Amber, true), ("partly complete", Rag::Amber, true),
    ("partially achieved", Rag::Amber, true), ("delayed", Rag::Amber, true), ("at risk", Rag::Amber, true),
    ("behind", Rag::Amber, true), ("slipped", Rag::Amber, true),
    ("off track", Rag::Red, true), ("not on track", Rag::Red, true), ("not achieved", Rag::Red, true),
    ("not met", Rag::Red, true), ("overdue", Rag::Red, true), ("stalled", Rag::Red, true),
    ("to be carried over", Rag::CarriedOver, true), ("carried into", Rag::CarriedOver, true),
    ("not yet due", Rag::NotStarted, true), ("not commenced", Rag::NotStarted, true),
    ("planned", Rag::NotStarted, true), ("pending", Rag::NotStarted, true),
];

/// The families of colour a fill can belong to, by hue (greys by their lack of
/// saturation). Reading by family rather than by distance to a list of shades means
/// that any tint of green a theme produces is green: a light "accent 6, 40%" green
/// is nearer in RGB to grey than to the standard green, but nobody shades a cell in
/// it to mean "complete".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Red,
    Amber,
    Green,
    Blue,
    Purple,
    Grey,
}

impl Family {
    /// The family of a colour; `None` for white and near-white (no colour) and for
    /// near-black.
    pub fn of(colour: Rgb) -> Option<Family> {
        let [r, g, b] = [colour.0, colour.1, colour.2].map(|c| f64::from(c) / 255.0);
        let max = r.max(g).max(b);
        let min = r.min(g).min(b);
        let lightness = (max + min) / 2.0;
        if lightness > 0.94 || max < 0.12 {
            return None;
        }
        let delta = max - min;
        let saturation = if delta == 0.0 {
            0.0
        } else {
            delta / (1.0 - (2.0 * lightness - 1.0).abs())
        };
        if saturation < 0.18 || delta < 0.08 {
            return Some(Family::Grey);
        }
        let hue = if max == r {
            60.0 * ((g - b) / delta).rem_euclid(6.0)
        } else if max == g {
            60.0 * ((b - r) / delta + 2.0)
        } else {
            60.0 * ((r - g) / delta + 4.0)
        };
        Some(match hue {
            h if !(15.0..330.0).contains(&h) => Family::Red,
            h if h < 70.0 => Family::Amber,
            h if h < 170.0 => Family::Green,
            h if h < 260.0 => Family::Blue,
            _ => Family::Purple,
        })
    }

    /// The family a `--legend` colour name stands for.
    fn named(name: &str) -> Option<Family> {
        Some(match name {
            "red" | "pink" => Family::Red,
            "amber" | "yellow" | "orange" | "gold" => Family::Amber,
            "green" => Family::Green,
            "blue" | "turquoise" | "teal" => Family::Blue,
            "purple" | "violet" => Family::Purple,
            "grey" | "gray" | "silver" => Family::Grey,
            _ => return None,
        })
    }
}

/// What each family means by default: the RAG colours, Grey = complete, Blue =
/// carried over; purple means nothing until the legend says.
const FAMILIES: [(Family, Option<Rag>); 6] = [
    (Family::Red, Some(Rag::Red)),
    (Family::Amber, Some(Rag::Amber)),
    (Family::Green, Some(Rag::Green)),
    (Family::Blue, Some(Rag::CarriedOver)),
    (Family::Purple, None),
    (Family::Grey, Some(Rag::Complete)),
];

/// How near (RGB distance) a fill must be to a `--legend "#RRGGBB=…"` colour to
/// take that meaning before its family's.
const EXACT_COLOUR_DISTANCE: u32 = 24;

/// Lower case, every run of non-alphanumeric characters one space.
fn normalise(text: &str) -> String {
    let spaced: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Default for Legend {
    fn default() -> Legend {
        let mut legend = Legend {
            words: WORDS
                .iter()
                .map(|&(word, rag, judged)| (word.to_owned(), rag, judged))
                .collect(),
            families: FAMILIES.to_vec(),
            exact: Vec::new(),
        };
        legend.sort();
        legend
    }
}

impl Legend {
    fn sort(&mut self) {
        self.words
            .sort_by_key(|(word, _, _)| std::cmp::Reverse(word.len()));
    }

    /// Applies `--legend "COLOUR=STATUS"` (or `"WORD=STATUS"`): COLOUR is a colour
    /// name or `#RRGGBB`; a name is a word too. The user's meaning wins and is not a
    /// judgement.
    pub fn set(&mut self, spec: &str) -> Result<(), String> {
        let Some((left, right)) = spec.split_once('=') else {
            return Err(format!("--legend {spec:?} is not COLOUR=STATUS; write it as \"Blue=carried-over\" or \"#92D050=green\""));
        };
        let status = parse_status_name(right).ok_or_else(|| {
            format!("--legend {spec:?}: {:?} is not a status; use green, amber, red, complete, carried-over or not-started", right.trim())
        })?;
        let name = normalise(left);
        if name.is_empty() {
            return Err(format!(
                "--legend {spec:?} names no colour or word before '='"
            ));
        }
        let colour = Rgb::from_hex(left.trim()).filter(|_| left.trim().starts_with('#'));
        if let Some(colour) = colour {
            self.exact.insert(0, (colour, status));
            return Ok(());
        }
        if let Some(family) = Family::named(&name) {
            for (f, meaning) in &mut self.families {
                if *f == family {
                    *meaning = Some(status);
                }
            }
        }
        // A colour's name is a word too ("Blue" written in the cell).
        self.words.retain(|(word, _, _)| *word != name);
        self.words.push((name, status, false));
        self.sort();
        Ok(())
    }

    /// The status a cell's text starts with, and the rest of the text.
    pub fn read_word(&self, text: &str) -> Option<StatusWord> {
        let normal = normalise(text);
        // A single letter ("G", "A") is a status only when it is the whole cell.
        let (word, status, judged) = self.words.iter().find(|(word, _, _)| {
            normal == *word || (word.len() > 1 && normal.starts_with(&format!("{word} ")))
        })?;
        // The same words in the original text: skip as many words as the phrase has.
        let rest = skip_words(text, word.split(' ').count());
        let said = text[..text.len() - rest.len()].trim_end_matches(|c: char| !c.is_alphanumeric());
        let said = said.trim();
        let separated = rest.is_empty()
            || text[..text.len() - rest.len()]
                .trim_end()
                .ends_with(['-', '–', '—', ':']);
        let rest = rest.trim_start_matches(|c: char| {
            c.is_whitespace() || matches!(c, '-' | '–' | '—' | ':' | '.' | ',' | ';' | '/')
        });
        Some(StatusWord {
            status: *status,
            word: said.to_owned(),
            judged: *judged,
            rest: rest.trim().to_owned(),
            separated,
        })
    }

    /// The status a fill colour shows: a `--legend` colour it is close to, else
    /// its family's meaning. `None` when the colour means nothing in the legend.
    pub fn colour_status(&self, colour: Rgb) -> Option<Rag> {
        if let Some((_, rag)) = self
            .exact
            .iter()
            .find(|(shade, _)| colour_distance(*shade, colour) <= EXACT_COLOUR_DISTANCE)
        {
            return Some(*rag);
        }
        let family = Family::of(colour)?;
        self.families
            .iter()
            .find(|(f, _)| *f == family)
            .and_then(|(_, rag)| *rag)
    }
}

/// A fill so light that it is no colour at all (white, the palest greys).
pub fn is_blank_fill(colour: Rgb) -> bool {
    Family::of(colour).is_none() && colour.0 > 0x80
}

/// The words after the first `count` words of `text` (words being runs of letters
/// and digits, as `normalise` counts them).
fn skip_words(text: &str, count: usize) -> &str {
    let mut seen = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        let word_char = c.is_alphanumeric();
        if word_char && !in_word {
            if seen == count {
                return &text[i..];
            }
            seen += 1;
        }
        in_word = word_char;
    }
    ""
}

fn colour_distance(a: Rgb, b: Rgb) -> u32 {
    let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).pow(2);
    let squared = d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2);
    (f64::from(squared)).sqrt() as u32
}

/// A status as the command line names it ("carried-over"), or its label words.
pub fn parse_status_name(text: &str) -> Option<Rag> {
    let normal = normalise(text);
    Rag::ALL
        .into_iter()
        .find(|rag| normalise(rag.as_str()) == normal || normalise(rag.label()) == normal)
        .or(match normal.as_str() {
            "grey" | "gray" | "completed" => Some(Rag::Complete),
            "blue" | "carry over" | "carried forward" => Some(Rag::CarriedOver),
            _ => None,
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn status_words_and_the_progress_after_them() {
        let legend = Legend::default();
        let read = |t: &str| legend.read_word(t).map(|w| (w.status, w.judged, w.rest));
        assert_eq!(read("Green"), Some((Rag::Green, false, String::new())));
        assert_eq!(read(" GREEN. "), Some((Rag::Green, false, String::new())));
        assert_eq!(
            read("Complete – consultation responses considered"),
            Some((
                Rag::Complete,
                false,
                "consultation responses considered".into()
            ))
        );
        assert_eq!(
            read("Not on track: funding"),
            Some((Rag::Red, true, "funding".into()))
        );
        assert_eq!(read("On track"), Some((Rag::Green, true, String::new())));
        assert_eq!(read("In-progress"), Some((Rag::Amber, true, String::new())));
        assert_eq!(
            read("Carried  over to 2025"),
            Some((Rag::CarriedOver, false, "to 2025".into()))
        );
        assert_eq!(read("Greenwich pilot"), None);
        assert_eq!(read("A review was held"), None);
        assert_eq!(read("a"), Some((Rag::Amber, false, String::new())));
        assert_eq!(read("Purple"), None);
    }

    #[test]
    fn colours_read_as_the_nearest_legend_colour() {
        let legend = Legend::default();
        let status = |hex: &str| legend.colour_status(Rgb::from_hex(hex).unwrap());
        assert_eq!(status("00B050"), Some(Rag::Green));
        assert_eq!(status("00B051"), Some(Rag::Green));
        assert_eq!(status("FFC000"), Some(Rag::Amber));
        assert_eq!(status("FF0000"), Some(Rag::Red));
        assert_eq!(status("BFBFBF"), Some(Rag::Complete));
        assert_eq!(status("0070C0"), Some(Rag::CarriedOver));
        assert_eq!(status("7030A0"), None);
        // Theme tints, as Excel and Word compute them.
        assert_eq!(status("A9D08E"), Some(Rag::Green));
        assert_eq!(status("A8D08D"), Some(Rag::Green));
        assert_eq!(status("C6EFCE"), Some(Rag::Green));
        assert_eq!(status("FFFF00"), Some(Rag::Amber));
        assert_eq!(status("FFC7CE"), Some(Rag::Red));
        assert_eq!(status("D9D9D9"), Some(Rag::Complete));
        assert_eq!(status("9BC2E6"), Some(Rag::CarriedOver));
        assert!(is_blank_fill(Rgb(0xFF, 0xFF, 0xFF)));
        assert!(!is_blank_fill(Rgb(0xD9, 0xD9, 0xD9)));
    }

    #[test]
    fn the_legend_can_be_changed() {
        let mut legend = Legend::default();
        legend.set("Blue=complete").unwrap();
        assert_eq!(
            legend.colour_status(Rgb(0, 0x70, 0xC0)),
            Some(Rag::Complete)
        );
        assert_eq!(
            legend.colour_status(Rgb(0x00, 0xB0, 0xF0)),
            Some(Rag::Complete)
        );
        assert_eq!(legend.read_word("blue").unwrap().status, Rag::Complete);
        legend.set("#7030A0=red").unwrap();
        assert_eq!(legend.colour_status(Rgb(0x70, 0x30, 0xA0)), Some(Rag::Red));
        legend.set("Purple=amber").unwrap();
        assert_eq!(
            legend.colour_status(Rgb(0x99, 0x66, 0xCC)),
            Some(Rag::Amber)
        );
        legend.set("Ongoing=green").unwrap();
        let ongoing = legend.read_word("Ongoing").unwrap();
        assert_eq!((ongoing.status, ongoing.judged), (Rag::Green, false));
        assert!(legend.set("Blue").is_err());
        assert!(legend
            .set("Blue=teal")
            .unwrap_err()
            .contains("not a status"));
    }
}
