//! The pages in daily use: forms that come back with what was typed and each error at
//! its field, steps that cannot be undone asking first, lists that page by seq and
//! stay put as entries arrive, and words people read (dates, file names).

use assure::web::accounts::Role;
use serde_json::{json, Value};

use crate::support::server::{Server, PLAN};

/// The ids of the challenges a page of the challenge log lists, in order.
fn listed_ids(body: &str) -> Vec<String> {
    body.split("href=\"/challenges/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|id| id.starts_with("C-"))
        .map(str::to_owned)
        .collect()
}

/// The rows of a page's (first) table.
fn tbody(body: &str) -> &str {
    let start = body.find("<tbody>").expect("a table");
    let end = body[start..].find("</tbody>").unwrap() + start;
    &body[start..end]
}

/// The address a page links to with `rel`, unescaped.
fn link(body: &str, rel: &str) -> Option<String> {
    let at = body.find(&format!("rel=\"{rel}\""))?;
    let start = body[..at].rfind("href=\"")? + 6;
    let end = start + body[start..].find('"')?;
    Some(body[start..end].replace("&amp;", "&"))
}

fn raise(server: &Server, agency: &str, text: &str) -> String {
    let reply = server.api(
        Role::Chair,
        "POST",
        "/api/v1/challenges",
        json!({ "to_agency": agency, "text": text }),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["events"][0]["subject"]
        .as_str()
        .unwrap()
        .trim_start_matches("challenge/")
        .to_owned()
}

#[test]
fn a_refused_form_comes_back_with_what_was_typed_and_each_error_at_its_field() {
    let server = Server::start();
    let size = server.state().shared.read().size();
    let status = format!("/plans/{PLAN}/actions/1.2/status");

    // Left empty: said at the field, in a sentence, with the date typed kept.
    let empty = server.form(
        Role::Manager,
        &status,
        &[
            ("status", "red"),
            ("rationale", " "),
            ("effective", "2024-02-01"),
        ],
    );
    assert_eq!(empty.status, 422, "{}", empty.body);
    let body = &empty.body;
    assert!(body.contains("<title>Error: "), "{body}");
    assert!(
        body.contains("<a href=\"#rationale\">Enter why the status changed</a>"),
        "the summary does not link the message to its field: {body}"
    );
    assert!(body.contains("id=\"rationale-error\""), "{body}");
    assert!(
        body.contains("aria-describedby=\"rationale-error\" aria-invalid=\"true\""),
        "{body}"
    );
    assert!(
        body.contains("value=\"2024-02-01\""),
        "the typed date is lost"
    );
    assert!(
        body.contains("<option value=\"red\" selected>"),
        "the chosen status is lost"
    );

    // Refused by the ledger's rules: shown at the field the refusal names, and the
    // rationale (with markup in it, escaped) kept.
    let typed = "Not on track <b>yet</b>; the panel meets in March";
    let future = server.form(
        Role::Manager,
        &status,
        &[
            ("status", "amber"),
            ("rationale", typed),
            ("effective", "2999-01-01"),
        ],
    );
    assert_eq!(future.status, 422, "{}", future.body);
    assert!(
        future
            .body
            .contains("<a href=\"#status-effective\">The effective date"),
        "{}",
        future.body
    );
    assert!(
        future
            .body
            .contains("Not on track &lt;b&gt;yet&lt;/b&gt;; the panel meets in March</textarea>"),
        "the typed rationale is lost: {}",
        future.body
    );

    // Two fields left empty: two errors, each linked.
    let raise = server.form(Role::Chair, "/challenges", &[("to", ""), ("text", "")]);
    assert_eq!(raise.status, 422);
    assert!(raise.body.contains("<a href=\"#to\">Enter the agency"));
    assert!(raise
        .body
        .contains("<a href=\"#text\">Enter the challenge</a>"));

    // Only the form that was sent shows its errors and values.
    assert_eq!(
        raise.body.matches("class=\"error-message\"").count(),
        2,
        "{}",
        raise.body
    );
    assert_eq!(
        server.state().shared.read().size(),
        size,
        "something was recorded"
    );
}

#[test]
fn carrying_over_and_closing_say_what_they_will_do_and_record_only_when_confirmed() {
    let server = Server::start();
    let other = {
        let live = server.state().shared.read();
        live.world
            .world()
            .plans
            .keys()
            .find(|p| p.as_str() != PLAN)
            .cloned()
            .expect("the demo has next year's plan")
    };
    let size = || server.state().shared.read().size();
    let before = size();
    let carry = format!("/plans/{PLAN}/actions/1.3/carry-over");
    let reason = "Agreed at the March board: the pathway moves to next year";
    let fields = [
        ("to_plan", other.as_str()),
        ("reason", reason),
        ("to_ref", "9.1"),
    ];

    let asked = server.form(Role::Manager, &carry, &fields);
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.body.contains("cannot be undone"), "{}", asked.body);
    assert!(asked.body.contains(reason));
    assert!(asked.body.contains(&format!("{other}/9.1")));
    assert!(asked.body.contains("name=\"confirm\" value=\"yes\""));
    assert_eq!(size(), before, "asking recorded something");

    // Going back shows the form as typed, nothing wrong and nothing recorded.
    let mut back = fields.to_vec();
    back.push(("back", "1"));
    let back = server.form(Role::Manager, &carry, &back);
    assert_eq!(back.status, 200);
    assert!(
        back.body.contains(&format!("{reason}</textarea>")),
        "{}",
        back.body
    );
    assert!(!back.body.contains("There is a problem"));
    assert_eq!(size(), before);

    // A carry-over that cannot be made is refused before the question.
    let bad = server.form(
        Role::Manager,
        &carry,
        &[
            ("to_plan", other.as_str()),
            ("reason", reason),
            ("priority", "99"),
        ],
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.body.contains("<a href=\"#carry-priority\">"),
        "{}",
        bad.body
    );

    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm", "yes"));
    let done = server.form(Role::Manager, &carry, &confirmed);
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(size() > before);
    let plan = server.page(Role::Manager, &format!("/plans/{PLAN}"));
    assert!(
        plan.body.contains(&format!(
            "href=\"/plans/{other}/actions/9.1\">{other}/9.1</a>"
        )),
        "the plan page does not say where 1.3 went"
    );

    // Closing a challenge asks too.
    let id = raise(&server, "GMP", "How is the night shift briefed?");
    let before = size();
    let close = format!("/challenges/{id}/close");
    let asked = server.form(Role::Chair, &close, &[("outcome", "Briefings added")]);
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(
        asked.body.contains("No response has been recorded"),
        "{}",
        asked.body
    );
    assert_eq!(size(), before);
    let done = server.form(
        Role::Chair,
        &close,
        &[("outcome", "Briefings added"), ("confirm", "yes")],
    );
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(size(), before + 1);
}

#[test]
fn the_challenge_log_pages_by_seq_and_a_page_stays_put_as_challenges_arrive() {
    let server = Server::start();
    let first_ids: Vec<String> = (0..120)
        .map(|i| {
            raise(
                &server,
                if i % 3 == 0 { "MFT" } else { "GMP" },
                &format!("challenge {i}"),
            )
        })
        .collect();
    let page1 = server.page(Role::Chair, "/challenges");
    assert_eq!(page1.status, 200);
    let ids1 = listed_ids(&page1.body);
    assert_eq!(ids1.len(), 50, "{}", page1.body);
    assert!(page1.body.contains("of 12"), "no count shown");
    let next = link(&page1.body, "next").expect("a link to the next page");
    assert!(link(&page1.body, "prev").is_none());
    let page2 = server.page(Role::Chair, &next);
    let ids2 = listed_ids(&page2.body);
    assert_eq!(ids2.len(), 50);
    assert!(ids1.iter().all(|id| !ids2.contains(id)), "pages overlap");
    // New challenges arrive: page two is the same page.
    for i in 0..5 {
        raise(&server, "GMP", &format!("late challenge {i}"));
    }
    assert_eq!(listed_ids(&server.page(Role::Chair, &next).body), ids2);
    // Back from page two is page one.
    let prev = link(&page2.body, "prev").expect("a link back");
    assert_eq!(listed_ids(&server.page(Role::Chair, &prev).body), ids1);

    // The API: arrays a page at a time, the next page in the Link header, every
    // challenge once, in the order raised.
    let mut seen = Vec::new();
    let mut path = "/api/v1/challenges?limit=30".to_owned();
    loop {
        let auth = server.bearer(Role::Auditor);
        let reply = server.send("GET", &path, &[("Authorization", &auth)], b"");
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.header("x-total-count"),
            Some("127"),
            "the demo's two and ours"
        );
        let items: Vec<Value> = serde_json::from_str(&reply.body).unwrap();
        assert!(items.len() <= 30);
        seen.extend(items.iter().map(|c| c["id"].as_str().unwrap().to_owned()));
        match reply.header("link") {
            Some(l) => {
                assert!(l.ends_with("; rel=\"next\""), "{l}");
                path = l[1..l.find('>').unwrap()].to_owned();
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 127);
    assert_eq!(&seen[2..122], &first_ids[..]);

    // A partner lead's pages hold only its agency's challenges, whatever it asks.
    let partner = server.page(Role::Partner, "/challenges?limit=500&agency=MFT");
    let rows = tbody(&partner.body);
    assert_eq!(
        listed_ids(rows).len(),
        80 + 5 + 1,
        "GMP's 85 and the demo's one"
    );
    assert!(
        !rows.contains("MFT"),
        "a partner lead sees another agency: {rows}"
    );
    let bad = server.page(Role::Chair, "/challenges?after=x");
    assert_eq!(bad.status, 400);
}

#[test]
fn history_pages_by_seq_newest_first_and_shows_short_hashes_and_words() {
    let server = Server::start();
    for i in 0..40 {
        raise(&server, "GMP", &format!("challenge {i}"));
    }
    let page1 = server.page(Role::Auditor, "/history");
    assert_eq!(page1.status, 200);
    assert!(
        page1.body.contains("class=\"hash\" title=\""),
        "no short hash"
    );
    assert!(
        !page1.body.contains("T00:00:00"),
        "a raw timestamp is shown"
    );
    let older = link(&page1.body, "next").expect("the demo has more than a page");
    assert!(link(&page1.body, "prev").is_none());
    let page2 = server.page(Role::Auditor, &older);
    let newer = link(&page2.body, "prev").expect("a link back");
    // New events do not move the older page, and "newer" from it is the first page.
    raise(&server, "GMP", "one more");
    assert_eq!(
        tbody(&server.page(Role::Auditor, &older).body),
        tbody(&page2.body)
    );
    assert!(server.page(Role::Auditor, &newer).body.contains("one more"));

    let auth = server.bearer(Role::Auditor);
    let reply = server.send(
        "GET",
        "/api/v1/history?limit=10",
        &[("Authorization", &auth)],
        b"",
    );
    let body = reply.json();
    assert_eq!(body["events"].as_array().unwrap().len(), 10);
    assert_eq!(body["next"], 10);
    let last = server.send(
        "GET",
        &format!(
            "/api/v1/history?after={}",
            body["size"].as_u64().unwrap() - 1
        ),
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(last.json()["next"], Value::Null);
}

#[test]
fn evidence_downloads_under_the_name_it_was_recorded_with() {
    let server = Server::start();
    let (hash, name) = {
        let live = server.state().shared.read();
        let world = live.world.world();
        world
            .plans
            .values()
            .flat_map(|p| p.actions.values())
            .flat_map(|a| &a.entries)
            .flat_map(|e| &e.evidence)
            .map(|e| (ledger::hex::hex(&e.blake3), e.name.clone()))
            .next()
            .expect("the demo has evidence")
    };
    let reply = server.page(Role::Manager, &format!("/evidence/{hash}"));
    assert_eq!(reply.status, 200);
    let disposition = reply.header("content-disposition").unwrap();
    assert!(
        disposition.contains(&format!("filename=\"{name}\""))
            || disposition.contains("filename*=UTF-8''"),
        "{disposition}"
    );
    assert!(!disposition.contains("evidence-"), "{disposition}");
}

/// The counts a plan page lists ("Green 3", …) as (word, number), from its counts list.
fn listed_counts(body: &str) -> Vec<(String, usize)> {
    let start = body.find("<ul class=\"counts\"").expect("a counts list");
    let end = start + body[start..].find("</ul>").unwrap();
    body[start..end]
        .split("<li>")
        .skip(1)
        .map(|item| {
            let word = item.split("\">").nth(1).unwrap().split('<').next().unwrap();
            let n = item.rsplit("</strong>").next().unwrap();
            let n = n.trim().trim_end_matches("</li>").trim();
            (word.to_owned(), n.parse().unwrap())
        })
        .collect()
}

#[test]
fn the_plan_page_draws_its_statuses_month_by_month_with_the_numbers_of_the_plan_on_each_day() {
    let server = Server::start();
    let page = server.page(Role::Auditor, &format!("/plans/{PLAN}"));
    assert_eq!(page.status, 200);
    let body = &page.body;
    let chart = &body[body.find("<figure class=\"chart\"").expect("a chart")..];
    let chart = &chart[..chart.find("</figure>").unwrap()];
    assert!(chart.contains("role=\"img\"") && chart.contains("<title id=\"rag-chart-title\">"));
    assert!(chart.contains("The same numbers as a table"));

    // Every month of the table links to the plan as it stood that day, and that page's
    // counts are the month's numbers.
    let rows = tbody(chart);
    let heads: Vec<&str> = tbody(chart).split("<th scope=\"row\">").skip(1).collect();
    assert!(!heads.is_empty(), "{rows}");
    let columns: Vec<String> = chart
        .split("<thead>")
        .nth(1)
        .unwrap()
        .split("</thead>")
        .next()
        .unwrap()
        .split("<th scope=\"col\">")
        .skip(2)
        .map(|c| c.split('<').next().unwrap().to_owned())
        .collect();
    for row in [heads[0], heads[heads.len() / 2], heads[heads.len() - 1]] {
        let href = row
            .split("href=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let numbers: Vec<usize> = row
            .split("<td>")
            .skip(1)
            .map(|c| c.split('<').next().unwrap().parse().unwrap())
            .collect();
        let then = server.page(Role::Auditor, &href.replace("&amp;", "&"));
        assert_eq!(then.status, 200, "{href}");
        let mut expected: Vec<(String, usize)> = columns
            .iter()
            .zip(&numbers)
            .filter(|(word, n)| word.as_str() != "All" && **n > 0)
            .map(|(word, n)| (word.clone(), *n))
            .collect();
        let mut listed = listed_counts(&then.body);
        expected.sort();
        listed.sort();
        assert_eq!(listed, expected, "{href}");
        assert_eq!(
            numbers.last().copied(),
            Some(expected.iter().map(|(_, n)| n).sum()),
            "the total of {href}"
        );
    }
}

/// The rows of the table with `caption`'s start, each as its cells' text.
fn table_rows(body: &str, caption: &str) -> Vec<Vec<String>> {
    let Some(at) = body.find(caption) else {
        return Vec::new();
    };
    let table = &body[at..body[at..].find("</table>").unwrap() + at];
    tbody(table)
        .split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let cell = &cell[cell.find('>').unwrap() + 1..];
                    let cell = cell.split("</td>").next().unwrap();
                    // The cell's text without its tags.
                    let mut text = String::new();
                    let mut inside = false;
                    for c in cell.chars() {
                        match c {
                            '<' => inside = true,
                            '>' => inside = false,
                            c if !inside => text.push(c),
                            _ => {}
                        }
                    }
                    text
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_dashboard_lists_what_needs_attention_and_a_partner_sees_only_its_agencys() {
    let server = Server::start();
    let board = server.page(Role::Manager, "/").body;
    assert!(board.contains("Needs attention"), "{board}");
    let actions = table_rows(&board, "overdue action");
    assert!(
        !actions.is_empty(),
        "the demo plan has actions past their timescale: {board}"
    );
    let challenges = table_rows(&board, "past due with no response");
    assert!(
        !challenges.is_empty(),
        "the demo has challenges past due: {board}"
    );
    // Every action listed is one the plan page marks overdue.
    let plan = server.page(Role::Manager, &format!("/plans/{PLAN}")).body;
    for row in &actions {
        let reference = row[0].split(' ').next().unwrap();
        assert!(plan.contains(reference), "{reference}");
    }

    let partner = server.page(Role::Partner, "/").body;
    assert!(partner.contains("Needs attention (GMP)"), "{partner}");
    let theirs = table_rows(&partner, "overdue action");
    assert!(theirs.len() < actions.len(), "{theirs:?} of {actions:?}");
    for row in &theirs {
        assert!(
            row[2].contains("GMP"),
            "a partner sees only actions GMP leads: {row:?}"
        );
        assert!(actions.contains(row), "{row:?}");
    }
    let their_challenges = table_rows(&partner, "past due with no response");
    for row in &their_challenges {
        assert!(row[1] == "GMP" && challenges.contains(row), "{row:?}");
    }
    for row in challenges.iter().filter(|c| c[1] != "GMP") {
        let id = row[0].split(' ').next().unwrap();
        assert!(
            !partner.contains(&format!("/challenges/{id}\"")),
            "{id} leaks to GMP"
        );
    }
}
