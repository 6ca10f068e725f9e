//! The board's picture: a plan's actions by status, month by month from its start,
//! drawn on the server as SVG (no script), with the same numbers as a table and the
//! status words beside the colours. Each month's bar is the plan as it stood on the
//! month's last day — the same `plan_at` every other view uses, so the chart agrees
//! with `assure plan --as-of` for those dates.

use std::collections::BTreeMap;

use chrono::{Datelike as _, NaiveDate};
use maud::{html, Markup};
use projections::timescale::{date_to_days, days_to_date};
use projections::Rag;

use super::html::{self, tag};

/// One bar: the plan as it stood on `day`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Month {
    /// "Nov 2023".
    pub label: String,
    pub day: i32,
    pub counts: BTreeMap<&'static str, usize>,
}

impl Month {
    fn total(&self) -> usize {
        self.counts.values().sum()
    }

    fn count(&self, rag: Rag) -> usize {
        self.counts.get(rag.as_str()).copied().unwrap_or(0)
    }
}

/// At most this many months are drawn: the latest ones.
pub const MAX_MONTHS: usize = 36;

/// The last day of each month from `start`'s month to `until`'s, the last one being
/// `until` itself; at most `MAX_MONTHS`, the latest.
pub fn month_ends(start: i32, until: i32) -> Vec<i32> {
    let (Some(first), Some(last)) = (days_to_date(start), days_to_date(until)) else {
        return Vec::new();
    };
    if first > last {
        return Vec::new();
    }
    let mut ends = Vec::new();
    let (mut year, mut month) = (first.year(), first.month());
    loop {
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        };
        let Some(next) = next else { break };
        let end = next.pred_opt().unwrap_or(next);
        if end >= last {
            ends.push(until);
            break;
        }
        ends.push(date_to_days(end));
        (year, month) = (next.year(), next.month());
    }
    let skip = ends.len().saturating_sub(MAX_MONTHS);
    ends.split_off(skip)
}

/// The last day of `day`'s month.
pub fn month_end(day: i32) -> i32 {
    month_ends(day, day + 31).first().copied().unwrap_or(day)
}

/// The days a plan's chart spans when it is shown as it stood on `shown`: from its
/// start to `shown`, or to the end of the month of its last change when that came
/// earlier (with that day, so the page can say nothing changed since).
pub fn span(plan: &projections::world::Plan, shown: i32) -> (i32, i32, Option<i32>) {
    let last_change = plan
        .actions
        .values()
        .map(|a| a.last_update.effective)
        .fold(plan.created.effective, i32::max);
    let until = shown.min(month_end(last_change));
    (
        plan.created.effective,
        until,
        (until < shown).then_some(last_change),
    )
}

/// The months of a plan from `start` to `until`, each counted by `counts_on` (the
/// plan's counts as it stood on a day; `None` when it did not exist yet).
pub fn months(
    start: i32,
    until: i32,
    mut counts_on: impl FnMut(i32) -> Option<BTreeMap<&'static str, usize>>,
) -> Vec<Month> {
    month_ends(start, until)
        .into_iter()
        .filter_map(|day| {
            let date = days_to_date(day)?;
            Some(Month {
                label: date.format("%b %Y").to_string(),
                day,
                counts: counts_on(day)?,
            })
        })
        .collect()
}

struct Bar<'a> {
    x: f64,
    top: f64,
    segments: Vec<(Rag, f64, f64)>,
    total: usize,
    label: Option<&'a str>,
}

/// The chart, its key and its table; each month in the table links to the plan as
/// it stood that day (`link` + `?as_of=`), when a link is given. `quiet_after`, when
/// the chart stops before the date shown, is the day of the plan's last change.
pub fn rag_chart(months: &[Month], link: Option<&str>, quiet_after: Option<i32>) -> Markup {
    if months.is_empty() {
        return html! {};
    }
    let (width, height, top, bottom, left) = (640.0, 220.0, 20.0, 36.0, 32.0);
    let plot = height - top - bottom;
    let most = months.iter().map(Month::total).max().unwrap_or(0).max(1) as f64;
    let step = (width - 2.0 * left) / months.len() as f64;
    let bar = (step * 0.7).min(40.0);
    // Label every month when there is room, else every few, counted back from the
    // last (always labelled) so no two labels meet.
    let every = months.len().div_ceil(9);
    let used: Vec<Rag> = Rag::ALL
        .into_iter()
        .filter(|r| months.iter().any(|m| m.count(*r) > 0))
        .collect();
    let first = &months[0];
    let last = &months[months.len() - 1];
    let summary = format!(
        "Actions by status at the end of each month from {} to {}; {}",
        first.label,
        last.label,
        used.iter()
            .map(|r| format!("{} {}", last.count(*r), r.label()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Each bar's segments, bottom up, in the order of `used`.
    let bars: Vec<Bar> = months
        .iter()
        .enumerate()
        .map(|(i, month)| {
            let x = left + step * i as f64 + (step - bar) / 2.0;
            let mut y = top + plot;
            let segments = used
                .iter()
                .filter(|r| month.count(**r) > 0)
                .map(|r| {
                    let h = plot * month.count(*r) as f64 / most;
                    y -= h;
                    (*r, y, h)
                })
                .collect();
            Bar {
                x,
                top: y,
                segments,
                total: month.total(),
                label: (months.len() - 1 - i)
                    .is_multiple_of(every)
                    .then_some(month.label.as_str()),
            }
        })
        .collect();
    html! {
        figure class="chart" {
            svg viewBox={ "0 0 " (width) " " (height) } role="img" aria-labelledby="rag-chart-title" class="chart-svg" {
                title id="rag-chart-title" { (summary) }
                @for b in &bars {
                    @for (rag, y, h) in &b.segments {
                        rect class={ "bar bar-" (rag.as_str()) } x=(format!("{:.1}", b.x)) y=(format!("{y:.1}")) width=(format!("{bar:.1}")) height=(format!("{h:.1}")) {}
                    }
                    text class="chart-total" x=(format!("{:.1}", b.x + bar / 2.0)) y=(format!("{:.1}", b.top - 4.0)) text-anchor="middle" { (b.total) }
                    @if let Some(label) = b.label {
                        text class="chart-label" x=(format!("{:.1}", b.x + bar / 2.0)) y=(format!("{:.1}", height - bottom + 16.0)) text-anchor="middle" { (label) }
                    }
                }
                line class="chart-axis" x1=(left) y1=(top + plot) x2=(width - left) y2=(top + plot) {}
            }
            figcaption {
                p class="hint" {
                    "Actions by status at the end of each month; the last bar is the plan as it stood on " (html::day_of(last.day)) "."
                    @if let Some(quiet) = quiet_after { " No change is recorded after " (html::day_of(quiet)) ", so the plan stands the same on the date shown." }
                }
                ul class="counts chart-key" aria-label="Key" {
                    @for rag in &used { li { span class={ "swatch bar-" (rag.as_str()) } aria-hidden="true" {} (tag(*rag)) } }
                }
            }
            details {
                summary { "The same numbers as a table" }
                div class="table-scroll" role="region" aria-label="Actions by status, month by month" tabindex="0" {
                    table {
                        caption class="visually-hidden" { "Actions by status at the end of each month" }
                        thead { tr { th scope="col" { "Month" } @for rag in &used { th scope="col" { (rag.label()) } } th scope="col" { "All" } } }
                        tbody {
                            @for month in months {
                                tr {
                                    th scope="row" {
                                        @match link {
                                            Some(link) => a href={ (link) "?as_of=" (projections::views::date(month.day)) } { (html::day_of(month.day)) },
                                            None => (html::day_of(month.day)),
                                        }
                                    }
                                    @for rag in &used { td { (month.count(*rag)) } }
                                    td { (month.total()) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> i32 {
        date_to_days(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    #[test]
    fn months_end_on_their_last_day_and_the_last_on_the_date_shown() {
        let ends = month_ends(day(2023, 11, 20), day(2024, 2, 10));
        assert_eq!(
            ends,
            vec![
                day(2023, 11, 30),
                day(2023, 12, 31),
                day(2024, 1, 31),
                day(2024, 2, 10)
            ]
        );
        assert_eq!(
            month_ends(day(2024, 2, 1), day(2024, 2, 29)),
            vec![day(2024, 2, 29)]
        );
        assert!(month_ends(day(2024, 3, 1), day(2024, 2, 1)).is_empty());
        let long = month_ends(day(2010, 1, 1), day(2024, 6, 15));
        assert_eq!(long.len(), MAX_MONTHS);
        assert_eq!(*long.last().unwrap(), day(2024, 6, 15));
    }

    #[test]
    fn the_chart_says_its_numbers_in_words_and_in_a_table() {
        let counts = |green, red| BTreeMap::from([("green", green), ("red", red), ("complete", 0)]);
        let months = months(day(2024, 1, 5), day(2024, 2, 20), |d| {
            Some(if d < day(2024, 2, 1) {
                counts(3, 1)
            } else {
                counts(2, 2)
            })
        });
        assert_eq!(months.len(), 2);
        let markup = rag_chart(&months, None, None).into_string();
        assert!(markup.contains("role=\"img\""), "{markup}");
        assert!(
            markup.contains("from Jan 2024 to Feb 2024; 2 Green, 2 Red"),
            "{markup}"
        );
        assert!(
            markup.contains("<th scope=\"row\">31 January 2024</th><td>3</td><td>1</td><td>4</td>"),
            "{markup}"
        );
        assert_eq!(markup.matches("class=\"bar bar-green\"").count(), 2);
        let linked = rag_chart(&months, Some("/plans/p"), Some(day(2024, 2, 1))).into_string();
        assert!(linked.contains("<a href=\"/plans/p?as_of=2024-01-31\">31 January 2024</a>"));
        assert!(linked.contains("No change is recorded after 1 February 2024"));
        // A status no month has is left out of the key and the table.
        assert!(!markup.contains("Complete"));
        assert_eq!(rag_chart(&[], None, None).into_string(), "");
    }
}
