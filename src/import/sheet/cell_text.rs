//! A cell's value as the text a person reading the sheet sees: numbers as Excel's
//! General format shows them, dates and times as `YYYY-MM-DD HH:MM`, durations as
//! hours and minutes, line breaks as `\n`, whether Excel or LibreOffice wrote them.
//!
//! Pure text in, text out: it never guesses what a value means, and keeps as written
//! anything it does not recognise.

use calamine::{Data, ExcelDateTime};
use chrono::{NaiveDate, NaiveTime, TimeDelta, Timelike};

/// A cell's value as text, as a person reading the sheet sees it.
pub(super) fn value_text(value: &Data) -> String {
    match value {
        Data::Empty => String::new(),
        Data::String(text) => with_plain_line_breaks(text),
        Data::Int(number) => number.to_string(),
        Data::Float(number) => number_text(*number),
        Data::Bool(true) => "TRUE".to_string(),
        Data::Bool(false) => "FALSE".to_string(),
        Data::Error(error) => error.to_string(),
        Data::DateTime(date) => excel_date_text(date),
        Data::DateTimeIso(text) => iso_date_text(text),
        Data::DurationIso(text) => iso_duration_text(text),
    }
}

/// Line breaks as `\n`, whether the file wrote them as CR LF, CR or `_x000D_`.
pub(super) fn with_plain_line_breaks(text: &str) -> String {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.to_string()
    }
}

/// A number as Excel's General format shows it: whole numbers without a decimal
/// point, others to at most 15 significant digits, which also drops binary noise
/// such as the 4 at the end of 0.30000000000000004.
pub(super) fn number_text(number: f64) -> String {
    if !number.is_finite() {
        return number.to_string();
    }
    let rounded: f64 = format!("{number:.14e}").parse().unwrap_or(number);
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded}")
    }
}

/// An Excel date as `YYYY-MM-DD`, with ` HH:MM` when it has a time of day; a time
/// alone as `HH:MM`; a duration as hours and minutes.
fn excel_date_text(date: &ExcelDateTime) -> String {
    let serial = date.as_f64();
    if date.is_duration() {
        return duration_text(serial * 86_400.0);
    }
    if !(0.0..2_958_466.0).contains(&serial) {
        return number_text(serial);
    }
    if serial < 1.0 {
        return clock_text(serial * 86_400.0);
    }
    match date
        .as_datetime()
        .and_then(|moment| moment.checked_add_signed(TimeDelta::milliseconds(500)))
    {
        Some(moment) => {
            let day = moment.date().format("%Y-%m-%d");
            match (moment.hour(), moment.minute()) {
                (0, 0) => day.to_string(),
                (hour, minute) => format!("{day} {hour:02}:{minute:02}"),
            }
        }
        None => number_text(serial),
    }
}

/// A time of day from seconds since midnight: `HH:MM`, or `HH:MM:SS` when the
/// seconds are not zero.
fn clock_text(seconds: f64) -> String {
    let total = seconds.round().clamp(0.0, 86_399.0) as u64;
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    match seconds {
        0 => format!("{hours:02}:{minutes:02}"),
        _ => format!("{hours:02}:{minutes:02}:{seconds:02}"),
    }
}

/// A duration as Excel's `[h]:mm` shows it, with seconds when there are any and the
/// hours in two digits at least, like a time of day.
fn duration_text(seconds: f64) -> String {
    if !seconds.is_finite() {
        return String::new();
    }
    let sign = if seconds < 0.0 { "-" } else { "" };
    let total = seconds.abs().round().min(9.0e15) as u64;
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    match seconds {
        0 => format!("{sign}{hours:02}:{minutes:02}"),
        _ => format!("{sign}{hours:02}:{minutes:02}:{seconds:02}"),
    }
}

/// An OpenDocument date value (`2024-03-01` or `2024-03-01T10:30:00`) written as for
/// Excel dates; anything unexpected is kept as written.
pub(super) fn iso_date_text(text: &str) -> String {
    let text = text.trim();
    let (day, time) = match text.split_once('T') {
        Some((day, time)) => (day, Some(time)),
        None => (text, None),
    };
    let Ok(day) = NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
        return text.to_string();
    };
    let time = time.and_then(|time| {
        let time = time.trim_end_matches('Z');
        let time = time.split(['+', '-']).next().unwrap_or(time);
        NaiveTime::parse_from_str(time, "%H:%M:%S%.f")
            .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
            .ok()
    });
    match time.map(|time| (time.hour(), time.minute())) {
        None | Some((0, 0)) => day.format("%Y-%m-%d").to_string(),
        Some((hour, minute)) => format!("{} {hour:02}:{minute:02}", day.format("%Y-%m-%d")),
    }
}

/// An OpenDocument time value (`PT10H30M00S`), which is how LibreOffice stores both
/// times of day and durations, as hours and minutes.
pub(super) fn iso_duration_text(text: &str) -> String {
    let trimmed = text.trim();
    let (negative, rest) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let Some(rest) = rest.strip_prefix('P') else {
        return trimmed.to_string();
    };
    let mut seconds = 0.0;
    let mut number = String::new();
    let mut in_time = false;
    for character in rest.chars() {
        match character {
            'T' => in_time = true,
            '0'..='9' | '.' | ',' => number.push(if character == ',' { '.' } else { character }),
            unit => {
                let Ok(value) = number.parse::<f64>() else {
                    return trimmed.to_string();
                };
                number.clear();
                seconds += value
                    * match (unit, in_time) {
                        ('D', false) => 86_400.0,
                        ('H', true) => 3_600.0,
                        ('M', true) => 60.0,
                        ('S', true) => 1.0,
                        _ => return trimmed.to_string(),
                    };
            }
        }
    }
    if !number.is_empty() {
        return trimmed.to_string();
    }
    duration_text(if negative { -seconds } else { seconds })
}
