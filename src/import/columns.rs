//! Which column of a plan holds which field: by the words of its header, by what
//! its cells hold when the header does not say, and by the user's `--map`.
//!
//! Headers are matched by their meaningful words, case, spacing and punctuation
//! aside, because real plans write "Who Responsible / linked plan" or "Progress &
//! Evidence RAG" rather than our names:
//! - A header that is exactly a field's name ("ref", "cross_refs") is that field.
//! - Otherwise each field has keywords with weights ([`KEYWORDS`]); a header scores
//!   the sum of the weights of its words and goes to its best-scoring field; ties go
//!   to the more specific field, in the order of [`Field::ALL`].
//! - A column whose cells are bare refs (1.1, 2.3 …) is the ref column, whatever
//!   its header says ("Action" holding refs beside "Specific action"), and is never
//!   the action.
//! - When no header names the action, the action column is the one whose header uses
//!   a word plans use for it ("Objective", "Critical Success Factor", "Key task",
//!   "What needs to improve"), else the one whose cells most often start with a ref,
//!   then hold the longest text. The mapping says it was chosen by content.
//! - A header that mentions RAG or status but reads best as another field
//!   ("Progress & Evidence RAG") is the status column when no other column is.
//! - One column per field: the best-scoring (then leftmost) column takes it.
//! - Nothing is dropped: every other column with text is kept on each action as an
//!   extra field (header → text), unless `--map "HEADER=ignore"` says otherwise.

use std::collections::HashMap;

use super::grid::column_letters;

/// The fields Assure reads from a plan, one column each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Ref,
    Priority,
    Action,
    Impact,
    Outcome,
    Lead,
    Due,
    Status,
    Progress,
    CrossRefs,
}

impl Field {
    /// Every field, most specific first: the order that breaks ties between fields.
    pub const ALL: [Field; 10] = [
        Field::Ref,
        Field::CrossRefs,
        Field::Status,
        Field::Due,
        Field::Lead,
        Field::Impact,
        Field::Outcome,
        Field::Progress,
        Field::Priority,
        Field::Action,
    ];

    /// The field's name in messages, `--map` and JSON, and its canonical header.
    pub fn name(self) -> &'static str {
        match self {
            Field::Ref => "ref",
            Field::Priority => "priority",
            Field::Action => "action",
            Field::Impact => "impact",
            Field::Outcome => "outcome",
            Field::Lead => "lead",
            Field::Due => "due",
            Field::Status => "status",
            Field::Progress => "progress",
            Field::CrossRefs => "cross_refs",
        }
    }
}

/// What one column is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Field(Field),
    /// Kept on each action as an extra field, under its header.
    Keep,
    /// Not read: the user said so, or the column is empty.
    Ignore,
}

impl Use {
    pub fn name(self) -> &'static str {
        match self {
            Use::Field(field) => field.name(),
            Use::Keep => "keep",
            Use::Ignore => "ignore",
        }
    }

    /// `--map`'s right-hand side.
    pub fn parse(text: &str) -> Option<Use> {
        let text = text.trim().to_lowercase().replace([' ', '-'], "_");
        match text.as_str() {
            "keep" | "extra" => Some(Use::Keep),
            "ignore" => Some(Use::Ignore),
            "crossrefs" | "cross_ref" => Some(Use::Field(Field::CrossRefs)),
            _ => Field::ALL
                .into_iter()
                .find(|f| f.name() == text)
                .map(Use::Field),
        }
    }
}

/// Words in a header that point to a field, and how strongly. Strong, specific
/// words weigh 3; words that only qualify a header ("action", "date", "who") weigh
/// less, so that "Action owner" is the lead and "Date for completion" the due date.
#[rustfmt::skip]
pub const KEYWORDS: &[(Field, u32, &[&str])] = &[
    (Field::Ref, 3, &["ref", "reference", "id", "no", "number"]),
    (Field::Priority, 3, &["priority", "priorities", "objective", "objectives"]),
    (Field::Priority, 2, &["theme", "improvement", "recommendation"]),
    (Field::Priority, 1, &["area"]),
    (Field::Action, 2, &["action", "actions", "task"]),
    (Field::Action, 1, &["specific", "improve", "what"]),
    (Field::Impact, 3, &["impact", "difference"]),
    (Field::Outcome, 3, &["outcome", "outcomes", "success", "kpi"]),
    (Field::Outcome, 2, &["measure", "measures", "indicator", "indicators"]),
    (Field::Outcome, 1, &["critical", "factor", "know"]),
    (Field::Lead, 3, &["lead", "leads", "responsible", "owner", "accountable"]),
    (Field::Lead, 2, &["who", "officer"]),
    (Field::Lead, 1, &["agency"]),
    (Field::Due, 3, &["due", "timescale", "timescales", "timeframe", "completion", "deadline"]),
    (Field::Due, 2, &["date", "when"]),
    (Field::Due, 1, &["target"]),
    (Field::Status, 3, &["rag", "status"]),
    (Field::Status, 1, &["rating"]),
    (Field::Progress, 3, &["progress"]),
    (Field::Progress, 2, &["evidence", "update", "updates"]),
    (Field::Progress, 1, &["commentary", "comments"]),
    (Field::CrossRefs, 4, &["cross"]),
    (Field::CrossRefs, 2, &["linked", "links", "related", "dependencies"]),
];

/// Headers real plans give the column of actions when no header says "action".
const ACTION_HEADERS: &[&str] = &[
    "objective",
    "objectives",
    "critical success factor",
    "critical success factors",
    "key task",
    "key tasks",
    "what needs to improve",
    "what we will do",
    "what will we do",
    "activity",
    "activities",
    "deliverable",
    "deliverables",
];

/// How one column of the file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMapping {
    /// 1-based.
    pub column: usize,
    /// How the user names the column: "C" in a spreadsheet, "3" elsewhere.
    pub label: String,
    pub header: String,
    pub used_as: Use,
    /// Why, in a few words: "its header", "its content: cells start with refs",
    /// "--map", "no field matches: kept as an extra field" …
    pub why: String,
}

impl ColumnMapping {
    /// One line for the user, e.g. `column C "Specific action" → action (its header)`.
    pub fn describe(&self) -> String {
        format!(
            "column {} {:?} → {} ({})",
            self.label,
            self.header,
            self.used_as.name(),
            self.why
        )
    }

    pub fn field(&self) -> Option<Field> {
        match self.used_as {
            Use::Field(field) => Some(field),
            _ => None,
        }
    }
}

/// What a column's data cells hold, for choosing by content.
#[derive(Debug, Clone, Default)]
pub struct ColumnContent {
    pub filled: usize,
    /// Cells that are a ref and nothing else ("1.4", "2a").
    pub bare_refs: usize,
    /// Cells that start with a ref followed by text ("1.4 Independent scrutiny …").
    pub led_by_refs: usize,
    pub chars: usize,
}

impl ColumnContent {
    pub fn add(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.filled += 1;
        self.chars += text.chars().count();
        if is_ref_token(text.trim_end_matches('.')) {
            self.bare_refs += 1;
        } else if leading_ref(text).is_some_and(|(_, rest)| !rest.is_empty()) {
            self.led_by_refs += 1;
        }
    }

    fn mostly_refs(&self) -> bool {
        self.filled > 0 && self.bare_refs * 10 >= self.filled * 6
    }

    fn mean_length(&self) -> usize {
        self.chars.checked_div(self.filled).unwrap_or(0)
    }
}

/// Maps columns to fields by the rules in this module's documentation. `maps` are
/// the user's `--map` choices by normalised header. Fails only when a `--map`
/// names a header the file does not have.
pub fn map_columns(
    headers: &[String],
    content: &[ColumnContent],
    maps: &[(String, Use)],
    lettered: bool,
) -> Result<Vec<ColumnMapping>, String> {
    let count = headers.len().max(content.len());
    let header_at = |i: usize| headers.get(i).map_or("", String::as_str);
    let content_at = |i: usize| content.get(i).cloned().unwrap_or_default();
    let mut chosen: Vec<Option<(Use, String)>> = vec![None; count];
    for (wanted, used_as) in maps {
        let at = (0..count).find(|&i| normalise_header(header_at(i)) == *wanted);
        let Some(at) = at else {
            let seen: Vec<String> = headers
                .iter()
                .filter(|h| !h.is_empty())
                .map(|h| format!("{h:?}"))
                .collect();
            return Err(format!("--map names the header {wanted:?}, which the file does not have; its headers are {}", seen.join(", ")));
        };
        chosen[at] = Some((*used_as, "--map".to_owned()));
    }
    let taken = |chosen: &[Option<(Use, String)>], field: Field| {
        chosen
            .iter()
            .any(|c| matches!(c, Some((Use::Field(f), _)) if *f == field))
    };
    let best: Vec<Option<(Field, u32)>> = (0..count)
        .map(|i| best_field(&header_words(header_at(i))))
        .collect();

    // The ref column: by its header, else by cells that are bare refs.
    if !taken(&chosen, Field::Ref) {
        let by_header =
            (0..count).find(|&i| chosen[i].is_none() && matches!(best[i], Some((Field::Ref, _))));
        let by_content = || {
            (0..count).find(|&i| {
                chosen[i].is_none()
                    && content_at(i).mostly_refs()
                    && matches!(best[i], None | Some((Field::Action | Field::Ref, _)))
            })
        };
        if let Some(i) = by_header {
            chosen[i] = Some((Use::Field(Field::Ref), "its header".into()));
        } else if let Some(i) = by_content() {
            chosen[i] = Some((
                Use::Field(Field::Ref),
                "its content: its cells are refs".into(),
            ));
        }
    }
    // The action column: never a column of bare refs.
    if !taken(&chosen, Field::Action) {
        let free = |i: usize, chosen: &[Option<(Use, String)>]| {
            chosen[i].is_none() && !content_at(i).mostly_refs()
        };
        let by_header = (0..count)
            .filter(|&i| free(i, &chosen) && matches!(best[i], Some((Field::Action, _))))
            .max_by_key(|&i| (best[i].map_or(0, |b| b.1), std::cmp::Reverse(i)));
        let by_name = || {
            (0..count)
                .filter(|&i| {
                    free(i, &chosen)
                        && ACTION_HEADERS.contains(&normalise_header(header_at(i)).as_str())
                })
                .max_by_key(|&i| (content_at(i).mean_length(), std::cmp::Reverse(i)))
        };
        let by_content = || {
            (0..count)
                .filter(|&i| {
                    free(i, &chosen)
                        && content_at(i).filled > 0
                        && matches!(
                            best[i],
                            None | Some((Field::Priority | Field::Outcome | Field::Impact, _))
                        )
                })
                .max_by_key(|&i| {
                    let c = content_at(i);
                    (
                        c.led_by_refs * 2 >= c.filled,
                        c.mean_length(),
                        std::cmp::Reverse(i),
                    )
                })
        };
        if let Some(i) = by_header {
            chosen[i] = Some((Use::Field(Field::Action), "its header".into()));
        } else if let Some(i) = by_name() {
            chosen[i] = Some((
                Use::Field(Field::Action),
                "its header, a name plans give the actions".into(),
            ));
        } else if let Some(i) = by_content() {
            let c = content_at(i);
            let why = if c.led_by_refs * 2 >= c.filled {
                "its content: its cells start with refs"
            } else {
                "its content: the longest text"
            };
            chosen[i] = Some((Use::Field(Field::Action), why.into()));
        }
    }
    // A header that mentions RAG or status is the status when nothing else is.
    let status_elsewhere = taken(&chosen, Field::Status)
        || (0..count).any(|i| chosen[i].is_none() && matches!(best[i], Some((Field::Status, _))));
    if !status_elsewhere {
        let mentions = (0..count).find(|&i| {
            chosen[i].is_none()
                && header_words(header_at(i))
                    .iter()
                    .any(|w| w == "rag" || w == "status")
        });
        if let Some(i) = mentions {
            chosen[i] = Some((
                Use::Field(Field::Status),
                "its header mentions RAG or status".into(),
            ));
        }
    }
    // Every other field: the best score, then the leftmost column.
    let mut winners: HashMap<Field, (usize, u32)> = HashMap::new();
    for i in 0..count {
        if let (None, Some((field, score))) = (&chosen[i], best[i]) {
            if taken(&chosen, field) {
                continue;
            }
            if score > winners.get(&field).map_or(0, |w| w.1) {
                winners.insert(field, (i, score));
            }
        }
    }
    for (field, (i, _)) in winners {
        chosen[i] = Some((Use::Field(field), "its header".into()));
    }
    Ok((0..count)
        .map(|i| {
            let header = header_at(i).to_owned();
            let (used_as, why) = chosen[i].clone().unwrap_or_else(|| {
                // Unknown content (a later header row) counts as filled.
                let empty = content.get(i).is_some_and(|c| c.filled == 0);
                match (empty, best[i]) {
                    (true, _) => (Use::Ignore, "empty".into()),
                    (false, Some((field, _))) => (
                        Use::Keep,
                        format!(
                            "it also reads as {}, which another column has: kept as an extra field",
                            field.name()
                        ),
                    ),
                    (false, None) => (Use::Keep, "no field matches: kept as an extra field".into()),
                }
            });
            ColumnMapping {
                column: i + 1,
                label: if lettered {
                    column_letters(i + 1)
                } else {
                    (i + 1).to_string()
                },
                header,
                used_as,
                why,
            }
        })
        .collect())
}

/// How many different fields a row's cells name, if it reads as a header row: two
/// or more short cells naming fields, and no cell that is a ref.
pub fn header_score(cells: &[&str]) -> usize {
    let mut fields = Vec::new();
    for cell in cells {
        if cell.is_empty() {
            continue;
        }
        if is_ref_token(cell.trim_end_matches('.')) || leading_ref(cell).is_some() {
            return 0;
        }
        let words = header_words(cell);
        if words.len() > 10 || cell.len() > 80 {
            continue;
        }
        if let Some((field, _)) = best_field(&words) {
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
    }
    fields.len()
}

/// A header as `--map` matches it: its words, lower-cased, single-spaced.
pub fn normalise_header(header: &str) -> String {
    header_words(header).join(" ")
}

/// A header's words, lower-cased, split on anything that is not a letter or digit.
fn header_words(header: &str) -> Vec<String> {
    header
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn best_field(words: &[String]) -> Option<(Field, u32)> {
    let joined = words.join("_");
    if let Some(field) = Field::ALL.into_iter().find(|f| f.name() == joined) {
        return Some((field, u32::MAX));
    }
    let mut best: Option<(Field, u32)> = None;
    for field in Field::ALL {
        let score: u32 = KEYWORDS
            .iter()
            .filter(|(f, _, _)| *f == field)
            .flat_map(|(_, weight, keywords)| keywords.iter().map(move |k| (*weight, *k)))
            .filter(|(_, keyword)| words.iter().any(|w| w == keyword))
            .map(|(weight, _)| weight)
            .sum();
        // Strictly greater, so an earlier (more specific) field keeps a tie.
        if score > best.map_or(0, |(_, held)| held) {
            best = Some((field, score));
        }
    }
    best
}

/// A ref written at the start of the action text, and the text after it:
/// "1.4 Independent scrutiny" → ("1.4", "Independent scrutiny"). A bare number is
/// taken only when punctuation marks it as a ref ("7. Brief…", "7) Brief…"), so that
/// "7 Minute Briefing" keeps its number.
pub fn leading_ref(text: &str) -> Option<(&str, &str)> {
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    let (token, rest) = text.split_at_checked(end)?;
    let core = token.trim_end_matches(['.', ')', ':', '-', '–']);
    let marked = core.len() < token.len();
    let (digits, distinctive) = ref_shape(core)?;
    if digits == 0 || !(distinctive || marked) {
        return None;
    }
    let rest = rest
        .trim_start()
        .trim_start_matches(['-', '–', ':'])
        .trim_start();
    Some((core, rest))
}

/// True for a cell that is a ref and nothing else: "1.4", "2a", "A2", "7".
pub fn is_ref_token(text: &str) -> bool {
    // A bare number of four digits is a year, not a ref.
    text.len() <= 16
        && ref_shape(text)
            .is_some_and(|(digits, distinctive)| digits > 0 && (distinctive || digits <= 3))
}

/// The digits in a ref-shaped token, and whether its shape marks it as a ref (a
/// dot between numbers, a letter before or after); `None` if it is not ref-shaped.
fn ref_shape(core: &str) -> Option<(usize, bool)> {
    let mut chars = core.chars().peekable();
    let letter_prefix = chars.next_if(char::is_ascii_alphabetic).is_some();
    let mut digits = 0;
    let mut dots = 0;
    let mut letter_suffix = false;
    while let Some(c) = chars.next() {
        match c {
            '0'..='9' => digits += 1,
            '.' if digits > 0 && chars.peek().is_some_and(char::is_ascii_digit) => dots += 1,
            'a'..='z' if digits > 0 && chars.peek().is_none() => letter_suffix = true,
            _ => return None,
        }
    }
    Some((digits, dots > 0 || letter_prefix || letter_suffix))
}

/// Every ref named in free text ("See also Action 3.1 and 4.2a") in order, without
/// repeats; words are not refs.
pub fn refs_in(text: &str) -> Vec<String> {
    let mut refs: Vec<String> = Vec::new();
    for token in
        text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '/' | '(' | ')' | '&'))
    {
        let token = token.trim_end_matches(['.', ':']);
        if is_ref_token(token) && !refs.iter().any(|r| r == token) {
            refs.push(token.to_owned());
        }
    }
    refs
}

/// The rule `projections::planned::check_id` applies to action refs, checked here
/// so that a bad ref is reported with its row and column.
pub fn is_usable_ref(reference: &str) -> bool {
    reference.len() <= 64
        && reference.starts_with(|c: char| c.is_ascii_alphanumeric())
        && reference
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !reference.contains("..")
}
