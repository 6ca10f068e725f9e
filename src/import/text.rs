//! Delimited text (CSV, TSV, semicolon-separated) into a grid of cells.
//!
//! The encoding and the separator are read from the content, because the same plan
//! arrives as "CSV UTF-8" from one office, as Windows-1252 with semicolons from a
//! European Excel, and as UTF-16 tab-separated "Unicode text" from another. Rows are
//! numbered as a spreadsheet shows them (a quoted cell spanning lines is one row,
//! blank lines count). A quote that is never closed is refused, naming the row where
//! it opened: a reader that let it run on would silently swallow the rows after it.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

use super::grid::{Cell, Grid, Row, RowAt, Unreadable};

/// The most rows and cells a plan is read from, as for sheets and Word tables: the
/// largest plans have a few thousand rows, and these keep a whole import well
/// within memory. A file past them is refused, naming the row.
const ROW_LIMIT: u64 = 50_000;
const CELL_LIMIT: usize = 1_000_000;

/// Reads the text and splits it into rows and cells.
pub fn read_text(bytes: &[u8]) -> Result<Grid, Unreadable> {
    let (text, encoding) = decode(bytes)?;
    if let Some(at) = text.find('\0') {
        let line = text[..at].matches('\n').count() + 1;
        return Err(Unreadable::new(format!("the file is not text: it holds binary data (line {line}); export the plan as .xlsx, .docx or \"CSV UTF-8\" and import that")));
    }
    let delimiter = detect_delimiter(&text);
    check_quotes(&text, delimiter)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut counter = RowCounter::default();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                return Err(Unreadable::new(format!(
                    "row {}: the row cannot be read ({error}); check its quotes and import again",
                    counter.last + 1
                )));
            }
        }
        let row = counter.next(text.as_bytes(), record.position());
        rows.push(Row {
            at: RowAt { table: None, row },
            cells: record.iter().map(Cell::new).collect(),
        });
    }
    let separator = match delimiter {
        b'\t' => "tab-separated",
        b';' => "semicolon-separated",
        _ => "comma-separated",
    };
    Ok(Grid {
        description: format!("text, {}, {separator}", encoding.name()),
        lettered_columns: false,
        rows,
        notes: Vec::new(),
    })
}

/// The text of the file and the encoding it was read in: a byte-order mark says
/// which; otherwise UTF-8 if the bytes are valid UTF-8, UTF-16 if every other byte
/// is zero (Excel's "Unicode text" without a mark), else Windows-1252 (what
/// Excel's plain "CSV" writes on Windows).
pub fn decode(bytes: &[u8]) -> Result<(String, &'static Encoding), Unreadable> {
    let encoding = match Encoding::for_bom(bytes) {
        Some((encoding, _)) => encoding,
        None if looks_utf16(bytes, 1) => UTF_16LE,
        None if looks_utf16(bytes, 0) => UTF_16BE,
        None if std::str::from_utf8(bytes).is_ok() => UTF_8,
        None if has_utf8_sequence(bytes) => return Err(mixed_encoding(bytes)),
        None => WINDOWS_1252,
    };
    // Decoding with the BOM removed; a malformed sequence (an odd UTF-16 byte, an
    // unpaired surrogate) is an error rather than a replacement character.
    let (text, had_errors) = encoding.decode_with_bom_removal(bytes);
    if had_errors {
        return Err(Unreadable::new(format!("the file's text is not valid {} (it may be cut short or not text at all); export the plan again and import that", encoding.name())));
    }
    Ok((text.into_owned(), encoding))
}

/// True when the bytes hold at least one well-formed multi-byte UTF-8 character:
/// then they were written as UTF-8, and bytes that are not UTF-8 are damage or a
/// second encoding mixed in, not Windows-1252 (whose accented letters almost never
/// happen to form UTF-8 sequences).
fn has_utf8_sequence(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(text) => return !text.is_ascii(),
            Err(error) => {
                let (valid, after) = rest.split_at(error.valid_up_to());
                // Only the valid part before the bad byte is known to be text.
                if std::str::from_utf8(valid).is_ok_and(|t| !t.is_ascii()) {
                    return true;
                }
                let skip = error.error_len().unwrap_or(after.len()).max(1);
                rest = after.get(skip..).unwrap_or_default();
            }
        }
    }
}

/// The refusal for UTF-8 text with bytes that are not UTF-8, naming the row and
/// column of the first.
fn mixed_encoding(bytes: &[u8]) -> Unreadable {
    let text = String::from_utf8_lossy(bytes);
    let delimiter = detect_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut counter = RowCounter::default();
    let mut header: Vec<String> = Vec::new();
    let mut place = String::new();
    for record in reader.records().map_while(Result::ok) {
        let row = counter.next(text.as_bytes(), record.position());
        if header.is_empty() {
            header = record.iter().map(str::to_owned).collect();
        }
        if let Some(column) = record.iter().position(|cell| cell.contains('\u{FFFD}')) {
            let name = header.get(column).map_or("", String::as_str);
            place = format!("row {row}, column {} ({name}): ", column + 1);
            break;
        }
    }
    Unreadable::new(format!("{place}this cell is not valid UTF-8, although the rest of the file is UTF-8 text: the file is damaged or mixes two encodings; open it, check that cell, save the file as \"CSV UTF-8\" and import again"))
}

/// True when most of the first bytes at `zero_at` (1 for little-endian) are zero.
fn looks_utf16(bytes: &[u8], zero_at: usize) -> bool {
    let sample = &bytes[..bytes.len().min(400) & !1];
    let pairs = sample.len() / 2;
    pairs >= 2
        && sample
            .chunks_exact(2)
            .filter(|pair| pair.get(zero_at) == Some(&0))
            .count()
            * 10
            >= pairs * 9
}

/// The separator that splits the first rows most consistently into more than one
/// cell: commas, semicolons or tabs. Commas win a tie, being the usual export.
fn detect_delimiter(text: &str) -> u8 {
    // The first rows are enough, and a bounded sample keeps one overlong row (a
    // hostile line of millions of separators) from being parsed whole here.
    let mut end = text.len().min(256 * 1024);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = &text[..end];
    let mut best = (b',', 0usize);
    for delimiter in [b',', b';', b'\t'] {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let counts: Vec<usize> = reader
            .records()
            .take(50)
            .map_while(Result::ok)
            .map(|r| r.len())
            .filter(|&n| n > 1)
            .collect();
        // The most common number of cells, weighted by how many rows have it.
        let mut mode = (0, 0);
        for &n in &counts {
            let rows = counts.iter().filter(|&&m| m == n).count();
            if (rows, n) > mode {
                mode = (rows, n);
            }
        }
        let score = mode.0 * 1000 + mode.1;
        if score > best.1 {
            best = (delimiter, score);
        }
    }
    best.0
}

/// Refuses text whose last quoted cell never closes, naming the row where it
/// opened. Follows the same rules as the CSV reader: a quote opens a cell only at
/// its start, and `""` inside a quoted cell is a quote.
/// Refuses a file past the row or cell limits (`rows`: which one), naming the row.
fn past_limits(row: usize, rows: bool) -> Unreadable {
    Unreadable::new(format!(
        "row {row}: the file goes on past {}, far more than any plan; \
         a plan is read from at most 50,000 rows and 1,000,000 cells. Check that this is the plan \
         (not a data extract), remove the rows and columns that are not part of it, and import again",
        if rows { "50,000 rows" } else { "1,000,000 cells" }
    ))
}

/// Refuses a quote that is never closed, and a file past the row or cell limits
/// before any row is parsed (a parser would first hold a whole overlong row's cells).
fn check_quotes(text: &str, delimiter: u8) -> Result<(), Unreadable> {
    let bytes = text.as_bytes();
    let mut cells = 1;
    let mut row = 1;
    let mut at_cell_start = true;
    let mut open_since: Option<usize> = None;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match (open_since, byte) {
            (Some(_), b'"') if bytes.get(i + 1) == Some(&b'"') => i += 1,
            (Some(_), b'"') => open_since = None,
            (None, b'\r') if bytes.get(i + 1) == Some(&b'\n') => {}
            (Some(_), _) => {}
            (None, b'\r' | b'\n') => {
                at_cell_start = true;
                row += 1;
                cells += 1;
                i += 1;
                // (A last line's end starts no row.)
                if i < bytes.len() && (row as u64 > ROW_LIMIT || cells > CELL_LIMIT) {
                    return Err(past_limits(row, row as u64 > ROW_LIMIT));
                }
                continue;
            }
            (None, b'"') if at_cell_start => open_since = Some(row),
            (None, b) if b == delimiter => {
                at_cell_start = true;
                cells += 1;
                i += 1;
                if cells > CELL_LIMIT {
                    return Err(past_limits(row, false));
                }
                continue;
            }
            _ => {}
        }
        at_cell_start = false;
        i += 1;
    }
    match open_since {
        Some(row) => Err(Unreadable::new(format!(
            "row {row}: a cell opens a quote (\") that is never closed, so every row after it would be read as part of that cell; close the quote (or remove it) and import again"
        ))),
        None => Ok(()),
    }
}

/// Counts rows as a spreadsheet shows them: one per record, however many lines its
/// quoted cells span, plus the blank lines that the CSV reader skips silently.
#[derive(Default)]
struct RowCounter {
    last: usize,
}

impl RowCounter {
    fn next(&mut self, input: &[u8], position: Option<&csv::Position>) -> usize {
        // The reader reports where the previous record ended, before any blank lines.
        let start = position
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(0);
        let mut at = start;
        // A "\n" that completes the previous record's "\r\n" is not a blank line.
        if at > 0 && input.get(at - 1) == Some(&b'\r') && input.get(at) == Some(&b'\n') {
            at += 1;
        }
        let mut blank_lines = 0;
        while let Some(&byte) = input.get(at) {
            match byte {
                b'\r' if input.get(at + 1) == Some(&b'\n') => at += 2,
                b'\r' | b'\n' => at += 1,
                _ => break,
            }
            blank_lines += 1;
        }
        self.last += 1 + blank_lines;
        self.last
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn texts(grid: &Grid) -> Vec<(usize, Vec<String>)> {
        grid.rows
            .iter()
            .map(|r| (r.at.row, r.cells.iter().map(|c| c.text.clone()).collect()))
            .collect()
    }

    #[test]
    fn separators_are_detected_from_the_content() {
        for (text, separator) in [
            ("ref,action\n1.1,a; b\n", "comma"),
            ("ref;action\n1.1;a, b\n", "semicolon"),
            ("ref\taction\n1.1\ta, b; c\n", "tab"),
        ] {
            let grid = read_text(text.as_bytes()).unwrap();
            assert!(
                grid.description.contains(separator),
                "{text:?}: {}",
                grid.description
            );
            assert_eq!(grid.rows[1].cells.len(), 2, "{text:?}");
        }
    }

    #[test]
    fn encodings_are_detected_and_named() {
        let latin = b"ref;action\n1.1;caf\xE9 \x93quoted\x94 \xA3\n";
        let grid = read_text(latin).unwrap();
        assert!(
            grid.description.contains("windows-1252"),
            "{}",
            grid.description
        );
        assert_eq!(
            grid.rows[1].cells[1].text,
            "caf\u{e9} \u{201c}quoted\u{201d} \u{a3}"
        );
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(
            "ref\taction\n1.1\tcafé\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        let grid = read_text(&utf16).unwrap();
        assert!(
            grid.description.contains("UTF-16LE"),
            "{}",
            grid.description
        );
        assert_eq!(grid.rows[1].cells[1].text, "café");
        let bare: Vec<u8> = "ref,action\n1.1,a\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(read_text(&bare).unwrap().description.contains("UTF-16LE"));
        let bom = b"\xEF\xBB\xBFref,action\n";
        assert_eq!(read_text(bom).unwrap().rows[0].cells[0].text, "ref");
    }

    #[test]
    fn utf8_with_a_byte_that_is_not_is_refused_naming_its_cell() {
        let error = read_text(b"ref,action\n1.1,Caf\xC3\xA9\n1.2,Bad \xE9\n").unwrap_err();
        assert!(
            error.message.starts_with("row 3, column 2 (action): "),
            "{}",
            error.message
        );
        // With no UTF-8 character anywhere, the same byte is Windows-1252.
        let grid = read_text(b"ref,action\n1.2,Caf\xE9\n").unwrap();
        assert_eq!(grid.rows[1].cells[1].text, "Caf\u{e9}");
    }

    #[test]
    fn an_unclosed_quote_is_refused_naming_its_row() {
        let text = "ref,action\n1.1,a\n1.2,\"b\n1.3,c\n1.4,d\n";
        let error = read_text(text.as_bytes()).unwrap_err();
        assert!(error.message.starts_with("row 3:"), "{}", error.message);
        // Closed quotes spanning lines, and doubled quotes, are fine.
        let fine = "ref,action\n1.1,\"a \"\"b\"\"\nc\"\n1.2,d\"e\n";
        assert_eq!(read_text(fine.as_bytes()).unwrap().rows.len(), 3);
    }

    #[test]
    fn rows_are_numbered_as_a_spreadsheet_shows_them() {
        let grid = read_text(b"ref,action\r\n\r\n1.1,\"a\r\nb\"\r\n1.2,c").unwrap();
        let rows: Vec<usize> = texts(&grid).into_iter().map(|(row, _)| row).collect();
        assert_eq!(rows, [1, 3, 4]);
        assert!(read_text(b"ref,\0action")
            .unwrap_err()
            .message
            .contains("binary"));
    }
}
