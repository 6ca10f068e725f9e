//! Plain-text tables for people at a terminal: columns padded to their widest cell,
//! long cells cut with an ellipsis so a row stays on one line.

/// Renders rows under headers. Cells wider than `max_width` characters are cut.
pub fn render(headers: &[&str], rows: &[Vec<String>], max_width: usize) -> String {
    let mut table = Columns::new(headers, max_width);
    for row in rows {
        table.measure(row);
    }
    let mut out = table.head(headers);
    for row in rows {
        out.push_str(&table.line(row));
    }
    out
}

/// A table written a row at a time (a million rows need not be held): the widths
/// are measured first (`measure`, a pass of their own), then each line is made.
#[derive(Debug, Clone)]
pub struct Columns {
    widths: Vec<usize>,
    max_width: usize,
}

impl Columns {
    pub fn new(headers: &[&str], max_width: usize) -> Columns {
        Columns {
            widths: headers.iter().map(|h| h.chars().count()).collect(),
            max_width,
        }
    }

    /// Widens the columns to fit `row` (as cut).
    pub fn measure(&mut self, row: &[String]) {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = self.widths.get_mut(i) {
                *w = (*w).max(cut(cell, self.max_width).chars().count());
            }
        }
    }

    /// The header line and the rule under it.
    pub fn head(&self, headers: &[&str]) -> String {
        let mut out = self.padded(headers.iter().map(|h| (*h).to_owned()).collect());
        out.push_str(&self.padded(self.widths.iter().map(|w| "-".repeat(*w)).collect()));
        out
    }

    /// One row's line, with its newline.
    pub fn line(&self, row: &[String]) -> String {
        self.padded(row.iter().map(|c| cut(c, self.max_width)).collect())
    }

    fn padded(&self, row: Vec<String>) -> String {
        let padded: Vec<String> = row
            .into_iter()
            .enumerate()
            .map(|(i, cell)| {
                let width = self.widths.get(i).copied().unwrap_or(0);
                let pad = width.saturating_sub(cell.chars().count());
                format!("{cell}{}", " ".repeat(pad))
            })
            .collect();
        let mut line = padded.join("  ").trim_end().to_owned();
        line.push('\n');
        line
    }
}

/// A cell on one line (control and bidi characters as spaces), cut with an ellipsis
/// past `max_width` characters.
fn cut(cell: &str, max_width: usize) -> String {
    let one_line: String = cell
        .chars()
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    if one_line.chars().count() > max_width {
        let kept: String = one_line.chars().take(max_width.saturating_sub(1)).collect();
        format!("{kept}…")
    } else {
        one_line
    }
}

/// Formatting characters that reorder how a line displays (bidi embeddings,
/// overrides, isolates and marks): never printed raw in a table.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_cells_are_cut_and_columns_line_up() {
        let rows = vec![
            vec!["1.1".to_owned(), "a very long title indeed".to_owned()],
            vec!["1.10".to_owned(), "short".to_owned()],
        ];
        let text = super::render(&["ref", "title"], &rows, 10);
        assert_eq!(
            text,
            "ref   title\n----  ----------\n1.1   a very lo…\n1.10  short\n"
        );
    }
}
