//! Plain-text tables for people at a terminal: columns padded to their widest cell,
//! long cells cut with an ellipsis so a row stays on one line.

/// Renders rows under headers. Cells wider than `max_width` characters are cut.
pub fn render(headers: &[&str], rows: &[Vec<String>], max_width: usize) -> String {
    let cut = |cell: &str| -> String {
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
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|c| cut(c)).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |row: Vec<String>| -> String {
        let padded: Vec<String> = row
            .into_iter()
            .enumerate()
            .map(|(i, cell)| {
                let width = widths.get(i).copied().unwrap_or(0);
                let pad = width.saturating_sub(cell.chars().count());
                format!("{cell}{}", " ".repeat(pad))
            })
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = line(headers.iter().map(|h| (*h).to_owned()).collect());
    out.push('\n');
    out.push_str(&line(widths.iter().map(|w| "-".repeat(*w)).collect()));
    out.push('\n');
    for row in cells {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
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
