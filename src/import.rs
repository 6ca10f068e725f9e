//! Reading a plan from a spreadsheet export (CSV): which column is which, one
//! validated row per action, the priorities they fall under.
//!
//! Pure: it takes the file's bytes and returns rows or one error that names the file,
//! row and column and says what to do. It never appends anything; the caller imports
//! all rows in one atomic batch or none. Timescales never make a row fail.

use std::collections::HashMap;

use projections::timescale::{parse_timescale, Milestone};

/// The fields Assure reads from a plan.
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

    /// Words that point to this field, each with a weight. A header goes to the field
    /// whose words it matches best, so extra words ("Who Responsible / linked plan")
    /// do not stop it matching.
    fn keywords(self) -> &'static [(&'static str, u32)] {
        match self {
            Field::Ref => &[
                ("ref", 3),
                ("reference", 3),
                ("no", 1),
                ("number", 1),
                ("id", 1),
            ],
            Field::Priority => &[("priority", 3), ("objective", 3), ("theme", 2), ("area", 1)],
            Field::Action => &[
                ("action", 3),
                ("actions", 3),
                ("specific", 1),
                ("improve", 2),
                ("task", 2),
            ],
            Field::Impact => &[("impact", 3), ("difference", 3)],
            Field::Outcome => &[
                ("outcome", 3),
                ("success", 3),
                ("indicators", 2),
                ("measure", 2),
                ("critical", 1),
            ],
            Field::Lead => &[("lead", 3), ("responsible", 3), ("owner", 3), ("who", 2)],
            Field::Due => &[
                ("due", 3),
                ("timescale", 3),
                ("timescales", 3),
                ("completion", 3),
                ("deadline", 3),
                ("date", 2),
            ],
            Field::Status => &[("rag", 3), ("status", 3)],
            Field::Progress => &[
                ("progress", 3),
                ("evidence", 2),
                ("update", 2),
                ("comments", 1),
            ],
            Field::CrossRefs => &[
                ("cross", 3),
                ("cross_refs", 4),
                ("links", 2),
                ("related", 2),
            ],
        }
    }

    const ALL: [Field; 10] = [
        Field::Ref,
        Field::Priority,
        Field::Action,
        Field::Impact,
        Field::Outcome,
        Field::Lead,
        Field::Due,
        Field::Status,
        Field::Progress,
        Field::CrossRefs,
    ];
}

/// How one header of the file was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMapping {
    /// 1-based, as the spreadsheet counts.
    pub column: usize,
    pub header: String,
    /// `None`: the column was ignored.
    pub field: Option<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedPriority {
    pub key: String,
    pub title: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportedStatus {
    Green,
    Amber,
    Red,
    Complete,
    CarriedOver,
    NotStarted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedAction {
    /// The spreadsheet row (the header is row 1).
    pub row: usize,
    pub reference: String,
    pub priority_key: String,
    pub title: String,
    pub impact: String,
    pub outcome: String,
    pub leads: Vec<String>,
    pub due_raw: String,
    pub milestones: Vec<Milestone>,
    pub status: Option<ImportedStatus>,
    pub progress: String,
    pub cross_refs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedPlan {
    pub columns: Vec<ColumnMapping>,
    pub priorities: Vec<ImportedPriority>,
    pub actions: Vec<ImportedAction>,
}

/// Why a file was refused: where, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub file: String,
    pub row: Option<usize>,
    /// 1-based column and its header.
    pub column: Option<(usize, String)>,
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(row) = self.row {
            write!(f, " row {row}")?;
        }
        if let Some((column, header)) = &self.column {
            write!(f, ", column {column} ({header})")?;
        }
        write!(f, ": {}. Nothing was imported.", self.message)
    }
}

impl std::error::Error for ImportError {}

/// The longest text accepted in one cell (32 KiB); longer material belongs in evidence.
const MAX_CELL_BYTES: usize = 32 * 1024;

fn normalise(header: &str) -> Vec<String> {
    header
        .to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn score(field: Field, words: &[String]) -> u32 {
    field
        .keywords()
        .iter()
        .filter(|(keyword, _)| words.iter().any(|w| w == keyword))
        .map(|(_, weight)| weight)
        .sum()
}

/// Each header to its best field; a field already taken by a better-matching column
/// leaves the later one ignored.
fn map_headers(headers: &[String]) -> Vec<ColumnMapping> {
    let mut best: Vec<Option<(Field, u32)>> = headers
        .iter()
        .map(|header| {
            let words = normalise(header);
            Field::ALL
                .iter()
                .map(|&f| (f, score(f, &words)))
                .filter(|(_, s)| *s > 0)
                .max_by_key(|(f, s)| (*s, std::cmp::Reverse(*f as u8)))
        })
        .collect();
    // "Progress & Evidence RAG" reads as progress; if no column is the status, a
    // header that mentions RAG is taken as the status instead.
    let has_status = best.iter().any(|b| matches!(b, Some((Field::Status, _))));
    if !has_status {
        for (i, header) in headers.iter().enumerate() {
            if normalise(header).iter().any(|w| w == "rag") {
                best[i] = Some((Field::Status, 3));
                break;
            }
        }
    }
    let mut taken: HashMap<Field, (usize, u32)> = HashMap::new();
    for (i, candidate) in best.iter().enumerate() {
        if let Some((field, s)) = candidate {
            match taken.get(field) {
                Some((_, held)) if held >= s => {}
                _ => {
                    taken.insert(*field, (i, *s));
                }
            }
        }
    }
    headers
        .iter()
        .enumerate()
        .map(|(i, header)| ColumnMapping {
            column: i + 1,
            header: header.clone(),
            field: best[i]
                .and_then(|(f, _)| (taken.get(&f).map(|(at, _)| *at) == Some(i)).then_some(f)),
        })
        .collect()
}

fn status_word(text: &str) -> Result<Option<ImportedStatus>, String> {
    let word: String = text
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphabetic() || *c == ' ')
        .collect();
    let word = word.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(Some(match word.as_str() {
        "" => return Ok(None),
        "green" | "g" => ImportedStatus::Green,
        "amber" | "a" | "in progress" | "ongoing" | "on track" => ImportedStatus::Amber,
        "red" | "r" => ImportedStatus::Red,
        "complete" | "completed" | "grey" | "gray" | "done" => ImportedStatus::Complete,
        "carry over" | "carried over" | "carried forward" | "carry forward" | "blue" => ImportedStatus::CarriedOver,
        "not started" | "not yet started" => ImportedStatus::NotStarted,
        _ => {
            return Err(format!(
                "{text:?} is not a status Assure knows; use green, amber, red, complete (grey), carried over (blue), not started, or in progress"
            ))
        }
    }))
}

/// A ref written at the start of the action text: "1.4 Independent scrutiny of …".
fn leading_ref(text: &str) -> Option<(String, String)> {
    let token: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let trimmed = token.trim_end_matches('.');
    let looks_like_ref = trimmed.chars().next().is_some_and(|c| c.is_ascii_digit())
        && trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c.is_ascii_lowercase())
        && trimmed.chars().filter(|c| c.is_ascii_lowercase()).count() <= 1;
    let rest = text.get(token.len()..)?;
    if looks_like_ref && (rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        Some((trimmed.to_owned(), rest.trim().to_owned()))
    } else {
        None
    }
}

fn split_list(text: &str, separators: &[char]) -> Vec<String> {
    text.split(|c| separators.contains(&c))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Removes control characters other than new lines and tabs, and trims.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .replace("\r\n", "\n")
        .trim()
        .to_owned()
}

/// Reads a CSV plan export. Any bad row rejects the whole file.
pub fn parse_plan_csv(file_name: &str, bytes: &[u8]) -> Result<ImportedPlan, ImportError> {
    let error =
        |row: Option<usize>, column: Option<(usize, String)>, message: String| ImportError {
            file: file_name.to_owned(),
            row,
            column,
            message,
        };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let header_record = match records.next() {
        Some(Ok(record)) => record,
        Some(Err(e)) => {
            return Err(error(
                Some(1),
                None,
                format!("the header row cannot be read: {e}"),
            ))
        }
        None => {
            return Err(error(
                None,
                None,
                "the file is empty; export the plan with its header row".into(),
            ))
        }
    };
    let headers: Vec<String> = header_record
        .iter()
        .enumerate()
        .map(|(i, h)| {
            std::str::from_utf8(h).map(clean).map_err(|_| {
                error(
                    Some(1),
                    Some((i + 1, "?".into())),
                    "the header is not UTF-8 text; save the file as CSV UTF-8".into(),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let columns = map_headers(&headers);
    let column_of = |field: Field| {
        columns
            .iter()
            .find(|c| c.field == Some(field))
            .map(|c| c.column - 1)
    };
    let Some(action_column) = column_of(Field::Action) else {
        return Err(error(
            Some(1),
            None,
            format!("no column holds the action text (headers seen: {}); name one `action` or `Specific action`", headers.join(", ")),
        ));
    };

    let mut rows = Vec::new();
    for (index, record) in records.enumerate() {
        let row = index + 2;
        let record = record.map_err(|e| {
            error(
                Some(row),
                None,
                format!("the row cannot be read as CSV: {e}"),
            )
        })?;
        let mut cells = Vec::with_capacity(record.len());
        for (i, cell) in record.iter().enumerate() {
            let header = headers
                .get(i)
                .cloned()
                .unwrap_or_else(|| "(no header)".into());
            let text = std::str::from_utf8(cell).map_err(|_| {
                error(Some(row), Some((i + 1, header.clone())), "the text is not UTF-8 (perhaps Windows-1252 from Excel); save the file as \"CSV UTF-8\" and import again".into())
            })?;
            if text.len() > MAX_CELL_BYTES {
                return Err(error(Some(row), Some((i + 1, header)), format!("the cell holds {} bytes, over the {} KiB limit; shorten it or attach it as evidence", text.len(), MAX_CELL_BYTES / 1024)));
            }
            if i >= headers.len() && !text.trim().is_empty() {
                return Err(error(Some(row), Some((i + 1, header)), "the row has more cells than the header has columns; check for a stray comma or quote".into()));
            }
            cells.push(clean(text));
        }
        if cells.iter().all(String::is_empty) {
            continue;
        }
        rows.push((row, cells));
    }

    let cell = |cells: &[String], field: Field| {
        column_of(field)
            .and_then(|i| cells.get(i))
            .cloned()
            .unwrap_or_default()
    };
    let mut actions: Vec<ImportedAction> = Vec::with_capacity(rows.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut priorities: Vec<ImportedPriority> = Vec::new();
    let mut last_priority_text = String::new();
    for (row, cells) in &rows {
        let header_of = |i: usize| (i + 1, headers.get(i).cloned().unwrap_or_default());
        let mut title = cells.get(action_column).cloned().unwrap_or_default();
        let mut reference = cell(cells, Field::Ref);
        if reference.is_empty() {
            if let Some((found, rest)) = leading_ref(&title) {
                reference = found;
                title = rest;
            }
        } else if let Some((found, rest)) = leading_ref(&title) {
            if found == reference {
                title = rest;
            }
        }
        if title.is_empty() {
            return Err(error(
                Some(*row),
                Some(header_of(action_column)),
                "no action text; every row needs the action it describes (or delete the row)"
                    .into(),
            ));
        }
        if reference.is_empty() {
            let at = column_of(Field::Ref).unwrap_or(action_column);
            return Err(error(
                Some(*row),
                Some(header_of(at)),
                "no ref; give each action a ref such as 1.1, or start its text with one".into(),
            ));
        }
        if let Some(first) = seen.insert(reference.clone(), *row) {
            let at = column_of(Field::Ref).unwrap_or(action_column);
            return Err(error(Some(*row), Some(header_of(at)), format!("ref {reference} is used again (first on row {first}); each action needs its own ref")));
        }
        let status_text = cell(cells, Field::Status);
        let status = status_word(&status_text).map_err(|message| {
            error(Some(*row), column_of(Field::Status).map(header_of), message)
        })?;
        let priority_text = cell(cells, Field::Priority);
        let priority_key = match reference.split_once('.') {
            Some((major, _)) if !major.is_empty() => major.to_owned(),
            _ => {
                // Refs without a dot: group by the priority text, numbering them in order.
                let text = if priority_text.is_empty() {
                    last_priority_text.clone()
                } else {
                    priority_text.clone()
                };
                match priorities.iter().position(|p| p.title == text) {
                    Some(i) => priorities[i].key.clone(),
                    None if text.is_empty() => "1".to_owned(),
                    None => (priorities.len() + 1).to_string(),
                }
            }
        };
        if !priority_text.is_empty() {
            last_priority_text = priority_text.clone();
        }
        match priorities.iter_mut().find(|p| p.key == priority_key) {
            Some(p)
                if p.title.starts_with("Priority ")
                    && !priority_text.is_empty()
                    && p.title == format!("Priority {priority_key}") =>
            {
                p.title = priority_text.clone()
            }
            Some(_) => {}
            None => priorities.push(ImportedPriority {
                key: priority_key.clone(),
                title: if priority_text.is_empty() {
                    format!("Priority {priority_key}")
                } else {
                    priority_text.clone()
                },
            }),
        }
        let due_raw = cell(cells, Field::Due);
        actions.push(ImportedAction {
            row: *row,
            reference,
            priority_key,
            title,
            impact: cell(cells, Field::Impact),
            outcome: cell(cells, Field::Outcome),
            leads: split_list(&cell(cells, Field::Lead), &[';', '\n']),
            milestones: parse_timescale(&due_raw),
            due_raw,
            status,
            progress: cell(cells, Field::Progress),
            cross_refs: split_list(&cell(cells, Field::CrossRefs), &[';', ',', ' ', '\n']),
        });
    }
    if actions.is_empty() {
        return Err(error(
            None,
            None,
            "the file has a header but no actions".into(),
        ));
    }
    Ok(ImportedPlan {
        columns,
        priorities,
        actions,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let root = std::env::var("ASSURE_SHARED")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared").to_owned());
        let path = std::path::Path::new(&root).join("fixtures").join(name);
        std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "fixture {} is missing ({e}); the tests need ../shared",
                path.display()
            )
        })
    }

    fn field_of(header: &str) -> Option<Field> {
        map_headers(&[header.to_owned(), "Status".to_owned()])[0].field
    }

    #[test]
    fn real_headers_map_to_fields() {
        let table = [
            ("ref", Some(Field::Ref)),
            ("Objective", Some(Field::Priority)),
            ("Specific action", Some(Field::Action)),
            ("What needs to improve/ACTION", Some(Field::Action)),
            ("Critical Success Factor", Some(Field::Outcome)),
            ("Who Responsible", Some(Field::Lead)),
            ("Who Responsible / linked plan", Some(Field::Lead)),
            ("Lead Agency/Officer", Some(Field::Lead)),
            ("Date for completion", Some(Field::Due)),
            ("Timescale", Some(Field::Due)),
            ("Outcome Measure", Some(Field::Outcome)),
            ("Success indicators", Some(Field::Outcome)),
            (
                "What will the impact be and how will we know",
                Some(Field::Impact),
            ),
            (
                "What difference will it make for children and young people?",
                Some(Field::Impact),
            ),
            ("Evidence of progress", Some(Field::Progress)),
            ("Progress & Evidence", Some(Field::Progress)),
            ("Progress & Evidence RAG", Some(Field::Progress)),
            ("cross_refs", Some(Field::CrossRefs)),
            ("Notes for the chair", None),
        ];
        for (header, expected) in table {
            assert_eq!(field_of(header), expected, "{header}");
        }
        assert_eq!(map_headers(&["RAG".into()])[0].field, Some(Field::Status));
        assert_eq!(
            map_headers(&["Risk RAG rating".into()])[0].field,
            Some(Field::Status)
        );
        // Without another status column, "Progress & Evidence RAG" is the status.
        let mapped = map_headers(&["action".into(), "Progress & Evidence RAG".into()]);
        assert_eq!(mapped[1].field, Some(Field::Status));
    }

    #[test]
    fn the_manchester_fixture_reads_completely() {
        let plan = parse_plan_csv("manchester.csv", &fixture("manchester-jtai-2023.csv")).unwrap();
        assert_eq!(plan.actions.len(), 14);
        let keys: Vec<&str> = plan.priorities.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["1", "2", "3", "5", "6"]);
        assert_eq!(plan.priorities[4].title, "Priority 6");
        let a = |r: &str| plan.actions.iter().find(|a| a.reference == r).unwrap();
        assert_eq!(a("6.3").milestones.len(), 2);
        assert_eq!(a("5.1").due_raw, "");
        assert_eq!(a("5.1").cross_refs, ["3.1"]);
        assert_eq!(
            a("6.3").leads,
            ["Al Ford, Director of CAMHS, Manchester University NHS Foundation Trust (MFT)"]
        );
        assert_eq!(a("1.1").leads.len(), 2);
    }

    #[test]
    fn refs_in_action_text_and_multi_line_leads() {
        let csv = "Specific action,Who Responsible\n\"1.4 Independent scrutiny\",\"Police; Health\nSchools\"\n";
        let plan = parse_plan_csv("p.csv", csv.as_bytes()).unwrap();
        assert_eq!(plan.actions[0].reference, "1.4");
        assert_eq!(plan.actions[0].title, "Independent scrutiny");
        assert_eq!(plan.actions[0].leads, ["Police", "Health", "Schools"]);
    }

    #[test]
    fn bad_rows_reject_the_file_naming_row_and_column() {
        let missing = parse_plan_csv("p.csv", b"ref,action\n1.1,ok\n1.2,\n").unwrap_err();
        assert_eq!(
            (missing.row, missing.column.as_ref().map(|c| c.0)),
            (Some(3), Some(2))
        );
        let dup = parse_plan_csv("p.csv", b"ref,action\n1.1,a\n1.1,b\n").unwrap_err();
        assert!(
            dup.to_string().contains("row 3") && dup.to_string().contains("first on row 2"),
            "{dup}"
        );
        let status = parse_plan_csv("p.csv", b"ref,action,status\n1.1,a,purple\n").unwrap_err();
        assert!(status.to_string().contains("column 3 (status)"), "{status}");
        let latin = parse_plan_csv("p.csv", b"ref,action\n1.1,caf\xE9\n").unwrap_err();
        assert!(latin.to_string().contains("row 2, column 2") && latin.message.contains("UTF-8"));
        let extra = parse_plan_csv("p.csv", b"ref,action\n1.1,a,stray\n").unwrap_err();
        assert_eq!(extra.row, Some(2));
        assert!(parse_plan_csv("p.csv", b"").is_err());
        assert!(parse_plan_csv("p.csv", b"lead,due\nx,y\n")
            .unwrap_err()
            .message
            .contains("action"));
    }

    #[test]
    fn bom_crlf_quotes_and_blank_rows_are_fine() {
        let csv = b"\xEF\xBB\xBFref,action,status\r\n1.1,\"Say \"\"hi\"\", twice\",Carried over\r\n,,\r\n1.2,Next,In progress\r\n";
        let plan = parse_plan_csv("p.csv", csv).unwrap();
        assert_eq!(plan.actions.len(), 2);
        assert_eq!(plan.actions[0].title, "Say \"hi\", twice");
        assert_eq!(plan.actions[0].status, Some(ImportedStatus::CarriedOver));
        assert_eq!(plan.actions[1].status, Some(ImportedStatus::Amber));
        assert_eq!(plan.actions[1].row, 4);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = parse_plan_csv("fuzz.csv", &bytes);
        }
    }
}
