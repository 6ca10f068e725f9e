//! The page frame and the few components every page uses, after the GOV.UK Design
//! System's patterns (header, width container, tags, summary lists, error summary).
//! maud escapes every interpolated string; nothing here builds HTML by hand.

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use projections::Rag;

use super::Caller;

pub const STYLESHEET: &str = include_str!("style.css");

/// A whole page: skip link, header with the signed-in user, main content.
pub fn page(title: &str, caller: &Caller, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Assure" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                a class="skip-link" href="#main" { "Skip to main content" }
                header class="header" {
                    div class="width" {
                        a class="header-name" href="/" { "Assure" }
                        span class="header-service" { "Action plans and challenge log" }
                        @if let Some(p) = &caller.principal {
                            nav aria-label="Main" class="header-nav" {
                                ul {
                                    li { a href="/" { "Dashboard" } }
                                    li { a href="/challenges" { "Challenge log" } }
                                    li { a href="/agencies" { "Agencies" } }
                                    @if super::Need::Audit.allows(Some(p.role)) {
                                        li { a href="/history" { "History" } }
                                        li { a href="/verify" { "Verification" } }
                                    }
                                }
                            }
                            div class="header-user" {
                                span { (p.name) " (" (p.role.label())
                                    @if let Some(a) = &p.agency { ", " (a) }
                                    ")" }
                                form method="post" action="/logout" class="inline" {
                                    (csrf(caller))
                                    button class="link-button" type="submit" { "Sign out" }
                                }
                            }
                        }
                    }
                }
                div class="width" {
                    main id="main" tabindex="-1" { (body) }
                }
                footer class="footer" {
                    div class="width" {
                        p { "Every change is a hash-chained event in a verifiable ledger. Auditors can check an export with "
                            code { "assure verify --bundle" } "." }
                    }
                }
            }
        }
    }
}

pub fn csrf(caller: &Caller) -> Markup {
    html! { input type="hidden" name="csrf" value=(caller.csrf); }
}

/// A status tag: the colour and, always, the words.
pub fn tag(rag: Rag) -> Markup {
    html! { strong class={ "tag tag-" (rag.as_str()) } { (rag.label()) } }
}

/// The mark of an entry written well after the date it took effect
/// (`views::is_late`), so an inspector sees which entries were written afterwards;
/// one the import took from the plan "as at" a later date says so instead.
pub fn late(late_days: i64, at_import: bool, late_after: i64) -> Markup {
    html! {
        @if at_import {
            " " strong class="tag tag-import" { "Recorded at import" }
        } @else if projections::views::is_late(late_days, late_after) {
            " " strong class="tag tag-late" { "Recorded " (late_days) " days later" }
        }
    }
}

/// A priority's heading: "Priority 6: Safer streets", or the title alone when the
/// plan's own title already says "Priority 6" (no "Priority 6: Priority 6").
pub fn priority_heading(key: &str, title: &str) -> String {
    let named = title
        .trim()
        .to_lowercase()
        .starts_with(&format!("priority {}", key.trim().to_lowercase()));
    if named {
        title.trim().to_owned()
    } else if title.trim().is_empty() {
        format!("Priority {key}")
    } else {
        format!("Priority {key}: {}", title.trim())
    }
}

/// "1 overdue action", "3 overdue actions".
pub fn count_of(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn text_tag(class: &str, text: &str) -> Markup {
    html! { strong class={ "tag tag-" (class) } { (text) } }
}

/// The error summary at the top of a page whose problem is no one field's.
pub fn error_summary(errors: &[String]) -> Markup {
    let errors: Vec<FieldError> = errors
        .iter()
        .map(|message| FieldError {
            id: None,
            message: message.clone(),
        })
        .collect();
    field_error_summary(&errors)
}

/// What is wrong with a form, tied to the field it is about (its element id), so
/// the summary links to it and the field shows it too (the GOV.UK error pattern).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub id: Option<String>,
    pub message: String,
}

/// The error summary: focused when the page opens (`autofocus`), each message a link
/// to its field.
pub fn field_error_summary(errors: &[FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="error-summary" role="alert" tabindex="-1" autofocus aria-labelledby="error-summary-title" {
                h2 id="error-summary-title" class="error-summary-title" { "There is a problem" }
                ul {
                    @for e in errors {
                        li {
                            @match &e.id {
                                Some(id) => a href={ "#" (id) } { (sentence(&e.message)) },
                                None => (sentence(&e.message)),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A message as a sentence: its first letter a capital ("the reason is empty" →
/// "The reason is empty").
pub fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub fn summary_row(key: &str, value: Markup) -> Markup {
    html! { div class="summary-row" { dt { (key) } dd { (value) } } }
}

pub fn respond(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// A short page for errors, without the signed-in header (it may not be known).
pub fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    let anonymous = Caller {
        principal: None,
        csrf: String::new(),
    };
    respond(
        status,
        page(
            title,
            &anonymous,
            html! {
                h1 class="heading-l" { (title) }
                p class="body" { (detail) }
                p class="body" { a href="/" { "Go to the dashboard" } }
            },
        ),
    )
}

pub fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address. Check it, or start from the dashboard.",
    )
}

pub fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// A date as people write it: "2024-03-28" → "28 March 2024". Anything that is not
/// an ISO date is shown as it is (a timescale such as "Ongoing", say).
pub fn day(iso: &str) -> String {
    match chrono::NaiveDate::parse_from_str(iso.trim(), "%Y-%m-%d") {
        Ok(d) => d.format("%-d %B %Y").to_string(),
        Err(_) => iso.to_owned(),
    }
}

/// A day number (days since 1970) in words.
pub fn day_of(days: i32) -> String {
    day(&projections::views::date(days))
}

/// A recorded moment as people read it: "3 March 2025, 14:02 UTC". Anything that is
/// not an RFC 3339 time is shown as it is.
pub fn moment(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339.trim()) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .format("%-d %B %Y, %H:%M UTC")
            .to_string(),
        Err(_) => rfc3339.to_owned(),
    }
}

/// A recorded moment (microseconds since 1970) in words.
pub fn moment_of(micros: i64) -> String {
    moment(&projections::views::timestamp(micros))
}

/// A hash shown short (its first 12 hex digits), the whole of it kept for copying
/// and for screen readers in the title and a visually hidden span.
pub fn short_hash(hex: &str) -> Markup {
    let short: String = hex.chars().take(12).collect();
    html! {
        @if short.len() < hex.len() {
            code class="hash" title=(hex) { (short) span aria-hidden="true" { "…" } span class="visually-hidden" { (hex[short.len()..]) } }
        } @else {
            code class="hash" { (hex) }
        }
    }
}

/// A `Content-Disposition` that downloads under the file's own name (RFC 6266): an
/// ASCII stand-in for old clients and the exact name UTF-8 encoded; nothing in the
/// name can end the header or the quoted string.
pub fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// What an entry of a timeline says, its kind in bold once: "Status Amber: why"
/// (the text of a status entry already starts with its kind), "Progress: note".
pub fn entry_what(kind: &str, text: &str) -> Markup {
    let says_kind = text.to_lowercase().starts_with(&kind.to_lowercase());
    match text.split_once(": ") {
        Some((head, rest)) if says_kind => {
            html! { strong { (sentence(head)) } ": " (multiline(rest)) }
        }
        _ => html! { strong { (sentence(kind)) } ": " (multiline(text)) },
    }
}

/// A count with thousands separated: "50,000".
pub fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Links to the pages before and after a page of a list kept by seq, and where this
/// page sits in it ("Showing 51 to 100 of 50,000"). `link(after)` makes the address of
/// the page after that cursor (`None`: the first page).
pub fn pagination<T>(
    page: &projections::views::Page<T>,
    link: impl Fn(Option<u64>) -> String,
    previous: &str,
    next: &str,
) -> Markup {
    let from = page.offset + usize::from(!page.items.is_empty());
    let to = page.offset + page.items.len();
    html! {
        nav class="pagination-nav" aria-label="Pages" {
            p class="hint" { "Showing " (number(from as u64)) " to " (number(to as u64)) " of " (number(page.total as u64)) }
            ul class="pagination" {
                @if let Some(cursor) = page.previous { li { a href=(link(cursor)) rel="prev" { (previous) } } }
                @if let Some(cursor) = page.next { li { a href=(link(Some(cursor))) rel="next" { (next) } } }
            }
        }
    }
}

/// A file size in words: "812 bytes", "14 KB", "2.3 MB".
pub fn bytes(n: u64) -> String {
    match n {
        0..=999 => count_of(n as usize, "byte", "bytes"),
        1_000..=999_999 => format!("{} KB", n.div_ceil(1_000)),
        _ => format!("{:.1} MB", n as f64 / 1_000_000.0),
    }
}

/// Percent-encodes a query value.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The decoded value of `name` in an `application/x-www-form-urlencoded` string.
pub fn query_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| url_decode(value))
    })
}

fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Text with line breaks kept (escaped by maud, then `pre-line` in the stylesheet).
pub fn multiline(text: &str) -> Markup {
    html! { span class="multiline" { (text) } }
}

/// A placeholder dash for empty values, read out as "none".
pub fn or_none(text: &str) -> Markup {
    if text.trim().is_empty() {
        html! { span class="secondary" { span aria-hidden="true" { "—" } span class="visually-hidden" { "none" } } }
    } else {
        html! { (text) }
    }
}

/// The start of a long text, cut at a word within `max` characters ("…" added).
pub fn first_words(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_and_counts_read_as_words() {
        assert_eq!(priority_heading("6", "Priority 6"), "Priority 6");
        assert_eq!(
            priority_heading("6", "PRIORITY 6 – Safer streets"),
            "PRIORITY 6 – Safer streets"
        );
        assert_eq!(
            priority_heading("6", "Safer streets"),
            "Priority 6: Safer streets"
        );
        assert_eq!(priority_heading("6", " "), "Priority 6");
        assert_eq!(
            count_of(1, "overdue action", "overdue actions"),
            "1 overdue action"
        );
        assert_eq!(
            count_of(0, "overdue action", "overdue actions"),
            "0 overdue actions"
        );
    }

    #[test]
    fn dates_and_moments_read_as_words() {
        assert_eq!(day("2024-03-28"), "28 March 2024");
        assert_eq!(day("2025-01-05"), "5 January 2025");
        assert_eq!(day("Ongoing"), "Ongoing");
        assert_eq!(day_of(0), "1 January 1970");
        assert_eq!(
            moment("2025-03-03T14:02:09.123456Z"),
            "3 March 2025, 14:02 UTC"
        );
        assert_eq!(moment("not a time"), "not a time");
        assert_eq!(
            attachment("Minutes \"March\" £.docx"),
            "attachment; filename=\"Minutes _March_ _.docx\"; filename*=UTF-8''Minutes%20%22March%22%20%C2%A3.docx"
        );
        assert_eq!(
            entry_what("status", "status Amber: late: two weeks").into_string(),
            "<strong>Status Amber</strong>: <span class=\"multiline\">late: two weeks</span>"
        );
        assert_eq!(
            entry_what("progress", "Met the leads").into_string(),
            "<strong>Progress</strong>: <span class=\"multiline\">Met the leads</span>"
        );
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(50_000), "50,000");
        assert_eq!(number(1_254_000), "1,254,000");
        assert_eq!(bytes(1), "1 byte");
        assert_eq!(bytes(14_200), "15 KB");
        assert_eq!(bytes(2_345_678), "2.3 MB");
        let hash = "ab".repeat(32);
        let markup = short_hash(&hash).into_string();
        assert!(markup.contains(">abababababab<"), "{markup}");
        assert!(markup.contains(&hash[12..]), "{markup}");
    }

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(
            query_value("a=1&csrf=x%2By+z", "csrf").as_deref(),
            Some("x+y z")
        );
        assert_eq!(query_value("a=1", "csrf"), None);
        assert_eq!(query_value("csrf=%", "csrf").as_deref(), Some("%"));
        assert_eq!(url_encode("/plans/a b"), "/plans/a%20b");
    }
}
