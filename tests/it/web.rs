//! The web service over real sockets on 127.0.0.1:0: the route × role matrix,
//! security (escaping, CSRF, size limits, path tricks, agency confinement, sessions,
//! throttling, CSV formulas) and 32 clients appending at once.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;

use assure::web::accounts::Role;
use assure::web::Need;
use serde_json::{json, Value};

// Shared with tests/web_storage.rs; each binary uses part of it.
#[allow(dead_code)]
use crate::support::server::*;

/// Who may use each route: `*` anyone, else the letters of the roles (Chair,
/// Manager, Partner lead, Auditor). Every registered route must be listed here.
const MATRIX: &[(&str, &str, &str)] = &[
    ("GET", "/static/style.css", "*"),
    ("GET", "/login", "*"),
    ("POST", "/login", "*"),
    ("POST", "/logout", "CMPA"),
    ("GET", "/", "CMPA"),
    ("GET", "/import", "CM"),
    ("POST", "/import", "CM"),
    ("POST", "/import/confirm", "CM"),
    ("GET", "/plans/{id}", "CMPA"),
    ("GET", "/plans/{id}/csv", "CMPA"),
    ("GET", "/plans/{id}/report", "CMA"),
    ("GET", "/plans/{id}/actions/{ref}", "CMPA"),
    ("POST", "/plans/{id}/actions/{ref}/status", "CM"),
    ("POST", "/plans/{id}/actions/{ref}/progress", "CMP"),
    ("POST", "/plans/{id}/actions/{ref}/carry-over", "CM"),
    ("GET", "/challenges", "CMPA"),
    ("GET", "/challenges/csv", "CMPA"),
    ("POST", "/challenges", "C"),
    ("GET", "/challenges/{id}", "CMPA"),
    ("POST", "/challenges/{id}/respond", "CMP"),
    ("POST", "/challenges/{id}/escalate", "C"),
    ("POST", "/challenges/{id}/close", "C"),
    ("POST", "/challenges/{id}/due", "C"),
    ("GET", "/agencies", "CMPA"),
    ("POST", "/agencies", "CM"),
    ("GET", "/history", "CMA"),
    ("GET", "/verify", "CMA"),
    ("POST", "/verify", "CMA"),
    ("POST", "/checkpoint", "CM"),
    ("POST", "/checkpoint/cosign", "C"),
    ("GET", "/export", "CMA"),
    ("GET", "/evidence/{hash}", "CMPA"),
    ("GET", "/api/v1/openapi.json", "*"),
    ("GET", "/api/v1/plans", "CMPA"),
    ("GET", "/api/v1/plans/{id}", "CMPA"),
    ("POST", "/api/v1/plans/{id}/import", "CM"),
    ("GET", "/api/v1/plans/{id}/actions/{ref}", "CMPA"),
    ("POST", "/api/v1/plans/{id}/actions/{ref}/status", "CM"),
    ("POST", "/api/v1/plans/{id}/actions/{ref}/progress", "CMP"),
    ("POST", "/api/v1/plans/{id}/actions/{ref}/carry-over", "CM"),
    ("GET", "/api/v1/challenges", "CMPA"),
    ("POST", "/api/v1/challenges", "C"),
    ("GET", "/api/v1/challenges/{id}", "CMPA"),
    ("POST", "/api/v1/challenges/{id}/respond", "CMP"),
    ("POST", "/api/v1/challenges/{id}/escalate", "C"),
    ("POST", "/api/v1/challenges/{id}/close", "C"),
    ("POST", "/api/v1/challenges/{id}/due", "C"),
    ("GET", "/api/v1/history", "CMA"),
    ("POST", "/api/v1/verify", "CMA"),
    ("GET", "/api/v1/checkpoint", "CMA"),
    ("GET", "/log/checkpoint", "*"),
    ("GET", "/log/tile/{*path}", "*"),
];

fn letter(role: Role) -> char {
    match role {
        Role::Chair => 'C',
        Role::Manager => 'M',
        Role::Partner => 'P',
        Role::Auditor => 'A',
    }
}

/// A real URL for a route template on the demo ledger.
fn concrete(path: &str, evidence: &str) -> String {
    let id = if path.contains("/challenges/") {
        "C-0001"
    } else {
        PLAN
    };
    path.replace("{id}", id)
        .replace("{ref}", "1.1")
        .replace("{hash}", evidence)
        .replace("{*path}", "0/000.p/1")
}

fn demo_evidence(server: &Server) -> String {
    let ledger = server.state().shared.ledger();
    ledger
        .blobs()
        .list()
        .unwrap()
        .into_iter()
        .next()
        .expect("the demo has evidence")
}

#[test]
fn every_route_and_role_matches_the_intended_matrix() {
    let server = Server::start();
    let registered: BTreeSet<(String, String)> = server
        .specs
        .iter()
        .map(|s| (s.method.to_string(), s.path.to_owned()))
        .collect();
    let intended: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        registered.difference(&intended).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "routes missing from the matrix"
    );
    assert_eq!(
        intended.difference(&registered).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "matrix rows for routes that do not exist"
    );
    let evidence = demo_evidence(&server);
    let mut wrong = Vec::new();
    for (method, path, allowed) in MATRIX {
        if (*method, *path) == ("POST", "/login") {
            // Open to all, but only with the sign-in form's own token: tested in
            // `sign_in_sets_strict_cookies_rotates_the_session_and_throttles_guessing`.
            continue;
        }
        let url = concrete(path, &evidence);
        let api = path.starts_with("/api/");
        let mut callers: Vec<Option<Role>> = vec![None];
        callers.extend(Role::ALL.map(Some));
        for caller in callers {
            let reply = match (caller, api) {
                (None, _) => server.send(method, &url, &[], b""),
                (Some(role), true) => server.api(role, method, &url, json!({})),
                (Some(role), false) if *method == "GET" => server.page(role, &url),
                (Some(role), false) => server.form(role, &url, &[]),
            };
            let expected = *allowed == "*" || caller.is_some_and(|r| allowed.contains(letter(r)));
            if reply.denied() == expected {
                wrong.push(format!(
                    "{method} {url} as {:?}: {} (expected {})",
                    caller.map(Role::as_str),
                    reply.status,
                    if expected { "allowed" } else { "denied" }
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "route × role mismatches:\n{}",
        wrong.join("\n")
    );
    // The guard's own table agrees with the matrix too.
    for spec in &server.specs {
        let row = MATRIX
            .iter()
            .find(|(m, p, _)| *m == spec.method.as_str() && *p == spec.path)
            .unwrap();
        for role in Role::ALL {
            assert_eq!(
                spec.need.allows(Some(role)),
                row.2 == "*" || row.2.contains(letter(role)),
                "{} {}",
                spec.method,
                spec.path
            );
        }
        assert_eq!(spec.need.allows(None), spec.need == Need::Public);
    }
}

#[test]
fn script_payloads_come_back_escaped_and_csv_formulas_neutralised() {
    let server = Server::start();
    let payload = "<script>alert('x')</script>";
    let formula = "=HYPERLINK(\"http://evil.example\",\"click\")";
    // The demo registers its agencies, so a challenge goes to one of them; an
    // unregistered name (here, a script) is refused with the list.
    let refused = server.api(
        Role::Chair,
        "POST",
        "/api/v1/challenges",
        json!({ "to_agency": payload, "text": "t" }),
    );
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("not a registered agency"),
        "{}",
        refused.body
    );
    for text in [payload, formula] {
        let raised = server.api(
            Role::Chair,
            "POST",
            "/api/v1/challenges",
            json!({ "to_agency": "GMP", "text": text }),
        );
        assert_eq!(raised.status, 201, "{}", raised.body);
    }
    let page = server.page(Role::Manager, "/challenges");
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(payload), "the script came back raw");
    assert!(
        page.body
            .contains("&lt;script&gt;alert('x')&lt;/script&gt;")
            || page
                .body
                .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")
    );
    let csv = server.page(Role::Manager, "/challenges/csv");
    assert_eq!(csv.status, 200);
    assert!(csv.body.contains("'=HYPERLINK"), "{}", csv.body);
    assert!(!csv.body.contains(",=HYPERLINK") && !csv.body.contains("\"=HYPERLINK"));
    // Every kind of formula start, in a plan CSV too (via a status rationale is not a
    // CSV column; a lead is): import a plan whose lead cell starts with '+'.
    let header = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/manchester-jtai-2023.csv"),
    )
    .unwrap()
    .lines()
    .next()
    .unwrap()
    .to_owned();
    let columns = header.split(',').count();
    let mut row = vec![String::new(); columns];
    row[0] = "1.1".into();
    row[5] = "@SUM(A1:A2)".into();
    row[2] = "-1 + an action that starts with a minus".into();
    let csv_body = format!("{header}\n{}\n", row.join(","));
    let imported = server.send(
        "POST",
        "/api/v1/plans/formula-plan/import?title=Formulas",
        &[
            (
                "Authorization",
                &format!("Bearer {}", server.token(Role::Manager)),
            ),
            ("Content-Type", "text/csv"),
        ],
        csv_body.as_bytes(),
    );
    assert_eq!(imported.status, 201, "{}", imported.body);
    let plan_csv = server.page(Role::Manager, "/plans/formula-plan/csv");
    assert!(plan_csv.body.contains("'@SUM(A1:A2)"), "{}", plan_csv.body);
    assert!(
        plan_csv.body.contains("'-1 + an action"),
        "{}",
        plan_csv.body
    );
}

#[test]
fn forms_without_their_csrf_token_are_refused() {
    let server = Server::start();
    let (cookie, csrf) = server.session(Role::Manager);
    let path = format!("/plans/{PLAN}/actions/1.1/status");
    let post = |body: &str| {
        server.send(
            "POST",
            &path,
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        )
    };
    assert_eq!(post("status=red&rationale=forged").status, 403);
    assert_eq!(post("csrf=wrong&status=red&rationale=forged").status, 403);
    let (_, other_csrf) = server.session(Role::Manager);
    assert_eq!(
        post(&format!(
            "csrf={}&status=red&rationale=forged",
            encode(&other_csrf)
        ))
        .status,
        403
    );
    let ok = post(&format!(
        "csrf={}&status=red&rationale=genuine",
        encode(&csrf)
    ));
    assert_eq!(ok.status, 303, "{}", ok.body);
    let history = server
        .api(
            Role::Auditor,
            "GET",
            "/api/v1/history?subject=plan/mcr-jtai-2023/action/1.1",
            Value::Null,
        )
        .json();
    let texts = history["events"].to_string();
    assert!(texts.contains("genuine") && !texts.contains("forged"));
    // The recorded actor is the signed-in user.
    let last = history["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["actor"], "manager");
}

#[test]
fn oversized_bodies_get_413_with_a_clear_message() {
    let server = Server::start();
    let big = vec![b'a'; 100 * 1024];
    let (cookie, _) = server.session(Role::Manager);
    let reply = server.send(
        "POST",
        &format!("/plans/{PLAN}/actions/1.1/status"),
        &[("Cookie", &cookie)],
        &big,
    );
    assert_eq!(reply.status, 413);
    assert!(reply.body.contains("64 KiB"));
    let reply = server.api(
        Role::Manager,
        "POST",
        &format!("/api/v1/plans/{PLAN}/actions/1.1/status"),
        json!({ "status": "red", "rationale": "x".repeat(100 * 1024) }),
    );
    assert_eq!(reply.status, 413);
    // An upload declared over the limit is refused before it is read.
    let mut stream = TcpStream::connect(server.addr).unwrap();
    write!(stream, "POST /plans/{PLAN}/actions/1.1/progress HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 30000000\r\nConnection: close\r\n\r\n").unwrap();
    let reply = read_reply(&mut stream);
    assert_eq!(reply.status, 413);
    assert!(reply.body.contains("25 MiB"));
}

#[test]
fn path_tricks_in_any_parameter_are_refused() {
    let server = Server::start();
    for path in [
        "/plans/..%2F..%2Fetc%2Fpasswd",
        "/plans/%2E%2E/actions/1.1",
        &format!("/plans/{PLAN}/actions/..%2F..%2Fkeys"),
        "/evidence/..%2F..%2Fkeys%2Fledger.key",
        "/evidence/keys/ledger.key",
        "/challenges/..%2FC-0001",
        "/api/v1/plans/..%2F..%2Fetc",
        "/api/v1/challenges/..%2Fx",
        "/static/..%2F..%2FCargo.toml",
    ] {
        let reply = if path.starts_with("/api/") {
            server.api(Role::Manager, "GET", path, Value::Null)
        } else {
            server.page(Role::Manager, path)
        };
        assert!(
            matches!(reply.status, 400 | 404),
            "{path}: {}",
            reply.status
        );
        assert!(
            !reply.body.contains("ASSURE") && !reply.body.contains("PRIVATE"),
            "{path}"
        );
    }
    let carried = server.api(
        Role::Manager,
        "POST",
        &format!("/api/v1/plans/{PLAN}/actions/1.1/carry-over"),
        json!({ "to_plan": "../../x", "reason": "r" }),
    );
    assert_eq!(carried.status, 422, "{}", carried.body);
    let imported = server.send(
        "POST",
        "/api/v1/plans/..%2Fevil/import",
        &[(
            "Authorization",
            &format!("Bearer {}", server.token(Role::Manager)),
        )],
        b"a,b\n",
    );
    assert!(matches!(imported.status, 400 | 404), "{}", imported.status);
    // Evidence names never become paths: a name with separators is shown, not used.
    let note = server.api(
        Role::Manager,
        "POST",
        &format!("/api/v1/plans/{PLAN}/actions/1.1/progress"),
        json!({ "note": "n", "evidence": [{ "name": "../../etc/passwd", "content": "aGVsbG8=" }] }),
    );
    assert_eq!(note.status, 201, "{}", note.body);
    let action = server.api(
        Role::Manager,
        "GET",
        &format!("/api/v1/plans/{PLAN}/actions/1.1"),
        Value::Null,
    );
    assert!(
        action.body.contains("\"passwd\"") && !action.body.contains("../"),
        "{}",
        action.body
    );
}

#[test]
fn managers_register_agencies_on_the_agencies_page_and_everyone_reads_them() {
    let server = Server::start();
    let added = server.form(
        Role::Manager,
        "/agencies",
        &[
            ("id", "probation"),
            ("name", "Probation Service North West"),
            ("aliases", "NPS, Probation"),
        ],
    );
    assert_eq!(added.status, 303, "{}", added.body);
    for role in Role::ALL {
        let page = server.page(role, "/agencies");
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains("Probation Service North West"),
            "{:?}",
            role
        );
        assert!(page.body.contains("NPS, Probation"));
        assert_eq!(
            page.body.contains("Register the agency"),
            matches!(role, Role::Chair | Role::Manager),
            "{role:?}"
        );
    }
    // A name that already means another agency is refused, and what was typed stays.
    let again = server.form(
        Role::Chair,
        "/agencies",
        &[
            ("id", "nps2"),
            ("name", "Another Service"),
            ("aliases", "nps"),
        ],
    );
    assert_eq!(again.status, 422, "{}", again.body);
    assert!(
        again.body.contains("already names agency probation"),
        "{}",
        again.body
    );
    assert!(
        again.body.contains("value=\"Another Service\""),
        "{}",
        again.body
    );
    assert!(again.body.contains("<title>Error: "), "{}", again.body);
}

#[test]
fn a_partner_lead_reads_and_answers_only_its_own_agencys_challenges() {
    let server = Server::start();
    let to_gmp = server
        .api(
            Role::Chair,
            "POST",
            "/api/v1/challenges",
            json!({ "to_agency": "GMP", "text": "for GMP" }),
        )
        .json();
    let to_nhs = server
        .api(
            Role::Chair,
            "POST",
            "/api/v1/challenges",
            json!({ "to_agency": "MFT", "text": "secret for NHS" }),
        )
        .json();
    let id = |v: &Value| {
        v["events"][0]["subject"]
            .as_str()
            .unwrap()
            .trim_start_matches("challenge/")
            .to_owned()
    };
    let (gmp, nhs) = (id(&to_gmp), id(&to_nhs));
    for path in [
        "/challenges",
        "/challenges?agency=NHS%20Trust",
        "/challenges/csv",
        "/challenges/csv?agency=NHS%20Trust",
        "/",
    ] {
        let reply = server.page(Role::Partner, path);
        assert_eq!(reply.status, 200, "{path}");
        assert!(!reply.body.contains("secret for NHS"), "{path} leaked");
    }
    assert_eq!(
        server
            .page(Role::Partner, &format!("/challenges/{nhs}"))
            .status,
        404
    );
    assert_eq!(
        server
            .page(Role::Partner, &format!("/challenges/{gmp}"))
            .status,
        200
    );
    assert!(!server
        .api(Role::Partner, "GET", "/api/v1/challenges", Value::Null)
        .body
        .contains("secret for NHS"));
    assert_eq!(
        server
            .api(
                Role::Partner,
                "GET",
                &format!("/api/v1/challenges/{nhs}"),
                Value::Null
            )
            .status,
        404
    );
    let answer = |c: &str| {
        server.api(
            Role::Partner,
            "POST",
            &format!("/api/v1/challenges/{c}/respond"),
            json!({ "text": "our answer" }),
        )
    };
    assert_eq!(answer(&nhs).status, 422);
    assert_eq!(answer(&gmp).status, 201);
    assert_eq!(
        server
            .form(
                Role::Partner,
                &format!("/challenges/{nhs}/respond"),
                &[("text", "sneaky")]
            )
            .status,
        404
    );
    // Other roles see both.
    assert!(server
        .page(Role::Auditor, "/challenges")
        .body
        .contains("secret for NHS"));
}

#[test]
fn a_partner_lead_records_progress_only_on_actions_its_agency_leads() {
    let server = Server::start();
    let plan = server
        .api(
            Role::Partner,
            "GET",
            &format!("/api/v1/plans/{PLAN}"),
            Value::Null,
        )
        .json();
    let actions = plan["actions"].as_array().unwrap();
    let leads_gmp = |a: &&Value| {
        a["leads"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().to_lowercase().contains("gmp"))
    };
    let open = |a: &&Value| a["carried_to"].is_null();
    let ours = actions
        .iter()
        .filter(open)
        .find(leads_gmp)
        .expect("an action GMP leads")["ref"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = actions.iter().filter(open).find(|a| !leads_gmp(a)).unwrap()["ref"]
        .as_str()
        .unwrap()
        .to_owned();
    let note = |r: &str| {
        server.api(
            Role::Partner,
            "POST",
            &format!("/api/v1/plans/{PLAN}/actions/{r}/progress"),
            json!({ "note": "partner note" }),
        )
    };
    assert_eq!(note(&ours).status, 201);
    let refused = note(&theirs);
    assert_eq!(refused.status, 422);
    assert!(refused.json()["error"]
        .as_str()
        .unwrap()
        .contains("does not lead"));
}

#[test]
fn sign_in_sets_strict_cookies_rotates_the_session_and_throttles_guessing() {
    let server = Server::start();
    // As a browser does: the form first (its token and cookie), then the post.
    let login = |body: &str, cookie: Option<&str>| {
        let form = server.send("GET", "/login", &[], b"");
        let form_cookie = form
            .header("set-cookie")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let cookies = match cookie {
            Some(c) => format!("{form_cookie}; {c}"),
            None => form_cookie,
        };
        let at = form.body.find("name=\"csrf\" value=\"").unwrap() + 19;
        let token = &form.body[at..at + 43];
        let body = format!("{body}&csrf={token}");
        let headers = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", cookies.as_str()),
        ];
        server.send("POST", "/login", &headers, body.as_bytes())
    };
    // Without the form's token (or with another form's), nothing is signed in.
    let no_token = server.send(
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("username=manager&password={}", encode(PASSWORD)).as_bytes(),
    );
    assert_eq!(no_token.status, 403);
    assert!(no_token.body.contains("had expired"));
    let good = format!(
        "username=manager&password={}&next=%2Fhistory",
        encode(PASSWORD)
    );
    // The API says how to authenticate, in JSON.
    let anonymous = server.send("GET", "/api/v1/plans", &[], b"");
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some("Bearer realm=\"assure\"")
    );
    assert!(anonymous.body.starts_with('{'), "{}", anonymous.body);
    // A sign-in posted by another site's page (login CSRF) is refused.
    for (name, value) in [
        ("Origin", "https://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let forged = server.send(
            "POST",
            "/login",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                (name, value),
            ],
            good.as_bytes(),
        );
        assert_eq!(forged.status, 403, "{name}: {value}");
        assert!(forged.header("set-cookie").is_none());
    }
    let first = login(&good, None);
    assert_eq!(first.status, 303);
    assert_eq!(first.header("location"), Some("/history"));
    let cookie = first.header("set-cookie").unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let old = cookie.split(';').next().unwrap().to_owned();
    assert_eq!(
        server
            .send("GET", "/history", &[("Cookie", &old)], b"")
            .status,
        200
    );
    let second = login(&good, Some(&old));
    let new = second
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(old, new, "sign-in must rotate the session id");
    assert!(
        server
            .send("GET", "/history", &[("Cookie", &old)], b"")
            .denied(),
        "the old session still works"
    );
    // An open redirect is not followed.
    let evil = login(
        &format!(
            "username=manager&password={}&next=%2F%2Fevil.example",
            encode(PASSWORD)
        ),
        None,
    );
    assert_eq!(evil.header("location"), Some("/"));
    // Guessing slows this client down for this name; it never locks the account.
    for _ in 0..3 {
        assert_eq!(
            login("username=auditor&password=wrong-guess-here", None).status,
            401
        );
    }
    let right = format!("username=auditor&password={}", encode(PASSWORD));
    let slowed = login(&right, None);
    assert_eq!(slowed.status, 429, "a try before the wait is over");
    assert_eq!(slowed.header("retry-after"), Some("1"));
    assert!(slowed.body.contains("Wait 1 second"), "{}", slowed.body);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(
        login(&right, None).status,
        303,
        "after the wait, the right password works"
    );
    // A next that a browser would turn into another site, or that cannot go in a
    // header, goes to the start page instead (never a 500).
    for trick in [
        "%2F%09%2Fevil.example%2F",
        "%2F%0A%2Fevil.example",
        "%2F%5Cevil.example",
        "https%3A%2F%2Fevil.example",
    ] {
        let tricked = login(
            &format!(
                "username=manager&password={}&next={trick}",
                encode(PASSWORD)
            ),
            None,
        );
        assert_eq!(tricked.header("location"), Some("/"), "{trick}");
    }
    let shown = server.send("GET", "/login?next=%2F%0A%2Fevil", &[], b"");
    assert_eq!(shown.status, 200);
    // Errors never leak internals; every page carries the security headers.
    let page = server.page(Role::Manager, "/");
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'none'"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    for (name, value) in [
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
    ] {
        assert_eq!(page.header(name), Some(value), "{name}");
    }
    assert!(page
        .header("permissions-policy")
        .unwrap()
        .contains("camera=()"));
    assert_eq!(
        page.header("strict-transport-security"),
        None,
        "only under --tls"
    );
    // Activity keeps the session: each page sends its cookie again, fresh.
    let (cookie, _) = server.session(Role::Manager);
    let active = server.send("GET", "/", &[("Cookie", &cookie)], b"");
    let slid = active.header("set-cookie").unwrap();
    assert!(
        slid.starts_with(&format!("{cookie};")) && slid.contains("Max-Age=1800"),
        "{slid}"
    );
    let stranger = server.send("GET", "/login", &[("Cookie", "assure_session=forged")], b"");
    assert!(!stranger
        .header("set-cookie")
        .is_some_and(|c| c.starts_with("assure_session=")));
}

#[test]
fn thirty_two_clients_appending_at_once_leave_a_gapless_chain_with_every_acknowledged_event() {
    let server = Server::start();
    let before = server.state().shared.read().size();
    let refs: Vec<String> = {
        let live = server.state().shared.read();
        let plan = live.world.world().plan(PLAN).unwrap();
        plan.actions
            .values()
            .filter(|a| a.carried_to.is_none())
            .map(|a| a.reference.clone())
            .collect()
    };
    const CLIENTS: usize = 32;
    const EACH: usize = 20;
    let acknowledged: Vec<(u64, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let server = &server;
                let refs = &refs;
                scope.spawn(move || {
                    let mut acks = Vec::new();
                    for i in 0..EACH {
                        let reference = &refs[(client + i) % refs.len()];
                        let note = format!("client {client} note {i}");
                        let reply = server.api(
                            Role::Manager,
                            "POST",
                            &format!("/api/v1/plans/{PLAN}/actions/{reference}/progress"),
                            json!({ "note": note }),
                        );
                        assert_eq!(reply.status, 201, "{}", reply.body);
                        acks.push((reply.json()["events"][0]["seq"].as_u64().unwrap(), note));
                    }
                    acks
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut seqs: Vec<u64> = acknowledged.iter().map(|(s, _)| *s).collect();
    seqs.sort_unstable();
    let expected: Vec<u64> = (before..before + (CLIENTS * EACH) as u64).collect();
    assert_eq!(
        seqs, expected,
        "acknowledged seqs are not unique and gapless"
    );
    let ledger = server.state().shared.ledger();
    let report = ledger.verify();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.size, before + (CLIENTS * EACH) as u64);
    for (seq, note) in &acknowledged {
        let event = ledger.event(*seq).unwrap();
        let decoded = projections::read::domain_event(&event).unwrap().unwrap();
        assert!(
            projections::views::summary(&decoded).contains(note.as_str()),
            "event {seq} is not {note}"
        );
    }
}

#[test]
fn the_report_states_how_to_verify_and_the_export_is_a_verifiable_bundle() {
    let server = Server::start();
    let report = server.page(
        Role::Auditor,
        &format!("/plans/{PLAN}/report?as_of=2024-01-31"),
    );
    assert_eq!(report.status, 200);
    assert!(
        report.body.contains("Verification statement")
            && report
                .body
                .contains("As it stood on <strong>31 January 2024</strong>")
    );
    assert!(report.body.contains("assure verify --bundle"));
    // The summary first (counts, the board's picture, overdue actions, the record in
    // words), then each action with its impact and an Overdue mark where it is late.
    let now = server
        .page(Role::Auditor, &format!("/plans/{PLAN}/report"))
        .body;
    let summary = now.split("report-priority").next().unwrap();
    for part in [
        "Summary",
        "role=\"img\"",
        "Overdue actions",
        "The record",
        "intact and in order",
    ] {
        assert!(summary.contains(part), "{part} is not in the summary");
    }
    assert!(now.contains(">Impact<"));
    assert!(now.contains("tag-overdue"));
    // The running header's words are in the report's own style, which the page's
    // policy allows by its hash and nothing else inline.
    let policy = report.header("content-security-policy").unwrap();
    let style = report
        .body
        .split("<style>")
        .nth(1)
        .unwrap()
        .split("</style>")
        .next()
        .unwrap();
    assert!(style.contains("As it stood on 31 January 2024"), "{style}");
    let digest = {
        use base64::Engine as _;
        use sha2::Digest as _;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style.as_bytes()))
    };
    assert!(
        policy.contains(&format!("style-src 'self' 'sha256-{digest}';")),
        "{policy}"
    );
    assert!(!policy.contains("unsafe-inline"));
    // A change after the latest checkpoint: exporting must still not sign one.
    let before = server.api(Role::Auditor, "GET", "/api/v1/checkpoint", json!({}));
    server
        .api(
            Role::Chair,
            "POST",
            "/api/v1/challenges",
            json!({ "to_agency": "GMP", "text": "after the checkpoint" }),
        )
        .json();
    let (cookie, _) = server.session(Role::Auditor);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "GET /export HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&raw[..at]).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // Streamed as it is written: chunked, not built whole in memory first.
    assert!(
        head.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let tar = &dechunk(&raw[at..]);
    let dir = tempfile::tempdir().unwrap();
    let tar_path = dir.path().join("export.tar");
    std::fs::write(&tar_path, tar).unwrap();
    let untar = std::process::Command::new("tar")
        .arg("xf")
        .arg(&tar_path)
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(untar.success());
    let bundle = dir.path().join("assure-export");
    let vkey = std::fs::read_to_string(bundle.join("keys")).unwrap();
    let verdict = ledger::bundle::verify_bundle(
        &bundle,
        &[ledger::note::VerifierKey::parse(vkey.lines().next().unwrap()).unwrap()],
    );
    assert!(verdict.ok, "{verdict:?}");
    // The folder the bundle was written to is gone once the download ends.
    let data = server.state().data.clone();
    let leftover = || {
        std::fs::read_dir(&data).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".export-")
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while leftover() {
        assert!(
            std::time::Instant::now() < deadline,
            "the export's folder stays"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Reading signed nothing: the checkpoint the pages show is the one people signed.
    let after = server.api(Role::Auditor, "GET", "/api/v1/checkpoint", json!({}));
    assert_eq!(before.body, after.body);
}

#[test]
fn a_plan_as_it_stood_shows_a_backdated_change_recorded_after_it_was_first_viewed() {
    let server = Server::start();
    let path = format!("/plans/{PLAN}?as_of=2024-01-31");
    let first = server.page(Role::Auditor, &path);
    assert_eq!(first.status, 200);
    let api = format!("/api/v1/plans/{PLAN}?as_of=2024-01-31");
    let before = server.api(Role::Auditor, "GET", &api, Value::Null).json();
    let status_of = |plan: &Value| {
        plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["ref"] == "2.1")
            .unwrap()["status"]
            .clone()
    };
    assert_ne!(status_of(&before), "red");
    let backdated = server.api(Role::Manager, "POST", &format!("/api/v1/plans/{PLAN}/actions/2.1/status"), json!({ "status": "red", "rationale": "found late: it was red in January", "effective": "2024-01-15" }));
    assert_eq!(backdated.status, 201, "{}", backdated.body);
    assert_eq!(server.page(Role::Auditor, &path).status, 200);
    let after = server.api(Role::Auditor, "GET", &api, Value::Null).json();
    assert_eq!(status_of(&after), "red");
    // The page's own view agrees with the API's.
    let csv_shows_red = || {
        let csv = server.page(
            Role::Auditor,
            &format!("/plans/{PLAN}/csv?as_of=2024-01-31"),
        );
        assert!(
            csv.body
                .lines()
                .any(|l| l.starts_with("2.1,") && l.contains("Red")),
            "{}",
            csv.body
        );
    };
    csv_shows_red();
    // A change recorded later but effective after the date leaves that view alone.
    let later = server.api(
        Role::Manager,
        "POST",
        &format!("/api/v1/plans/{PLAN}/actions/2.1/status"),
        json!({ "status": "green", "rationale": "recovered" }),
    );
    assert_eq!(later.status, 201);
    csv_shows_red();
}

/// Runs the real binary on `data`.
fn assure(data: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = crate::support::assure(data, "web.tester")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn sigterm_stops_the_service_cleanly_and_every_acknowledged_change_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(assure(&data, &["init"], "").status.success());
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/manchester-jtai-2023.csv");
    assert!(assure(
        &data,
        &[
            "import",
            fixture.to_str().unwrap(),
            "--plan",
            PLAN,
            "--effective",
            "2023-11-20"
        ],
        ""
    )
    .status
    .success());
    // The password comes from standard input, never the command line.
    let added = assure(
        &data,
        &["user", "add", "mgr", "--role", "manager"],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let short = assure(
        &data,
        &["user", "add", "other", "--role", "manager"],
        "short\n",
    );
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("too short"));
    let token = String::from_utf8(assure(&data, &["token", "new", "mgr"], "").stdout)
        .unwrap()
        .trim()
        .to_owned();
    assert!(token.starts_with("assure_"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
        .arg("--data")
        .arg(&data)
        .args(["serve", "--addr", &addr.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while TcpStream::connect(addr).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the service did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let auth = format!("Bearer {token}");
    let stop = std::sync::atomic::AtomicBool::new(false);
    let acknowledged: Vec<(u64, String)> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..8)
            .map(|client| {
                let (auth, stop) = (&auth, &stop);
                scope.spawn(move || {
                    let mut acks = Vec::new();
                    for i in 0.. {
                        if stop.load(std::sync::atomic::Ordering::Relaxed) {
                            break;
                        }
                        let note = format!("client {client} note {i}");
                        let body = json!({ "note": note }).to_string();
                        let Ok(mut stream) = TcpStream::connect(addr) else { break };
                        let request = format!("POST /api/v1/plans/{PLAN}/actions/1.1/progress HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                        if stream.write_all(request.as_bytes()).is_err() {
                            break;
                        }
                        let mut raw = Vec::new();
                        let _ = stream.read_to_end(&mut raw);
                        let text = String::from_utf8_lossy(&raw);
                        if text.starts_with("HTTP/1.1 201") {
                            let json: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
                            acks.push((json["events"][0]["seq"].as_u64().unwrap(), note));
                        }
                    }
                    acks
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(700));
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &server.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        std::thread::sleep(std::time::Duration::from_millis(200));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect()
    });
    let exit = server.wait().unwrap();
    let mut out = String::new();
    server
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(
        exit.success(),
        "the service did not stop cleanly: {exit:?} {out}"
    );
    assert!(
        out.contains("every acknowledged change is on disk"),
        "{out}"
    );
    assert!(
        !acknowledged.is_empty(),
        "no append was acknowledged before the signal"
    );
    let history: Value =
        serde_json::from_slice(&assure(&data, &["history", "--json"], "").stdout).unwrap();
    let events = history.as_array().unwrap();
    for (seq, note) in &acknowledged {
        let event = events
            .iter()
            .find(|e| e["seq"] == *seq)
            .unwrap_or_else(|| panic!("acknowledged event {seq} is missing"));
        assert!(event["summary"].as_str().unwrap().contains(note.as_str()));
    }
    let verify = assure(&data, &["verify"], "");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    // The inspection report from the command line, as of a date, is one page.
    let report = dir.path().join("report.html");
    let made = assure(
        &data,
        &[
            "report",
            PLAN,
            "--as-of",
            "2024-01-31",
            "--out",
            report.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("Verification statement") && html.contains("31 January 2024"));
    // A file to print or send: its styles are inside it.
    assert!(html.contains(".report-action") && !html.contains("/static/style.css"));
    let missing = assure(
        &data,
        &["report", "no-such-plan", "--out", report.to_str().unwrap()],
        "",
    );
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn a_storage_failure_is_a_5xx_and_nothing_is_shown_as_recorded() {
    let server = Server::start();
    let blobs = server.state().data.join("blobs");
    let before = server.state().shared.read().size();
    let path = format!("/api/v1/plans/{PLAN}/actions/1.1/progress");
    let note = json!({ "note": "with evidence", "evidence": [{ "name": "e.txt", "content": "ZXZpZGVuY2U=" }] });
    // The evidence folder becomes a file: storing the evidence fails.
    let saved = server.state().data.join("blobs-saved");
    std::fs::rename(&blobs, &saved).unwrap();
    std::fs::write(&blobs, b"not a folder").unwrap();
    let failed = server.api(Role::Manager, "POST", &path, note.clone());
    server.assert_not_recorded(&failed, before);
    let history = server.api(
        Role::Auditor,
        "GET",
        "/api/v1/history?subject=plan/mcr-jtai-2023/action/1.1",
        Value::Null,
    );
    assert!(!history.body.contains("with evidence"));
    // Space returns: the same change goes through and the chain verifies.
    std::fs::remove_file(&blobs).unwrap();
    std::fs::rename(&saved, &blobs).unwrap();
    let ok = server.api(Role::Manager, "POST", &path, note);
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.json()["events"][0]["seq"].as_u64(), Some(before));
    assert!(server.state().shared.ledger().verify().ok);
}

#[test]
fn the_chair_co_signs_a_checkpoint_offline_and_the_service_keeps_only_a_verified_signature() {
    let server = Server::start();
    assert_eq!(server.form(Role::Manager, "/checkpoint", &[]).status, 303);
    let held = server
        .api(Role::Auditor, "GET", "/api/v1/checkpoint", Value::Null)
        .json();
    // The dashboard shows it without waiting for the ledger.
    let dashboard = server.page(Role::Auditor, "/");
    assert!(
        dashboard.body.contains(&format!(
            "{} changes, signed by the ledger only",
            held["size"]
        )),
        "{}",
        dashboard.body
    );
    let note = held["note"].as_str().unwrap().to_owned();
    // On the chair's computer: `assure checkpoint cosign FILE --key KEY --offline`,
    // which opens no ledger.
    let dir = tempfile::tempdir().unwrap();
    let (note_file, key_file) = (dir.path().join("checkpoint"), dir.path().join("chair.key"));
    std::fs::write(&note_file, &note).unwrap();
    std::fs::write(&key_file, server.chair_key.to_file_string()).unwrap();
    let signed = std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
        .args(["checkpoint", "cosign"])
        .arg(&note_file)
        .arg("--key")
        .arg(&key_file)
        .arg("--offline")
        .output()
        .unwrap();
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let cosigned = String::from_utf8(signed.stdout).unwrap();
    // A note signed by some other key is refused, and so is one the ledger never made.
    let stranger = ledger::note::SigningKey::generate("board.example/chair").unwrap();
    let mut forged = ledger::checkpoint::SignedCheckpoint::parse(note.as_bytes()).unwrap();
    forged.add_signature(&stranger).unwrap();
    let refused = server.form(
        Role::Chair,
        "/checkpoint/cosign",
        &[("note", &forged.to_string())],
    );
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("no valid signature"),
        "{}",
        refused.body
    );
    let other_size = cosigned.replacen(&format!("\n{}\n", held["size"]), "\n999\n", 1);
    assert_eq!(
        server
            .form(Role::Chair, "/checkpoint/cosign", &[("note", &other_size)])
            .status,
        422
    );
    // Pasted into the browser's text area (CR LF line ends), the real one is kept.
    let pasted = cosigned.replace('\n', "\r\n");
    let added = server.form(Role::Chair, "/checkpoint/cosign", &[("note", &pasted)]);
    assert_eq!(added.status, 303, "{}", added.body);
    let now = server
        .api(Role::Auditor, "GET", "/api/v1/checkpoint", Value::Null)
        .json();
    let signers: Vec<&str> = now["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(signers.contains(&"board.example/chair"), "{signers:?}");
    assert_eq!(
        signers
            .iter()
            .filter(|s| **s == "board.example/chair")
            .count(),
        1,
        "only the verified signature is kept: {signers:?}"
    );
    let stored =
        ledger::checkpoint::SignedCheckpoint::parse(now["note"].as_str().unwrap().as_bytes())
            .unwrap();
    stored.verify(&[server.chair_key.verifier()]).unwrap();
    // A manager cannot; the route is the chair's.
    assert_eq!(
        server
            .form(Role::Manager, "/checkpoint/cosign", &[("note", &cosigned)])
            .status,
        403
    );

    // A later checkpoint signed by the ledger alone never hides the co-signed one:
    // both are shown, apart, and the check says in words what each means.
    let cosigned_size = held["size"].as_u64().unwrap();
    let raised = server.api(
        Role::Chair,
        "POST",
        "/api/v1/challenges",
        json!({ "to_agency": "GMP", "text": "After the co-signature" }),
    );
    assert_eq!(raised.status, 201, "{}", raised.body);
    assert_eq!(server.form(Role::Manager, "/checkpoint", &[]).status, 303);
    assert_eq!(server.form(Role::Auditor, "/verify", &[]).status, 303);
    let size = server.state().shared.read().size();
    assert!(size > cosigned_size);
    let page = server.page(Role::Auditor, "/verify").body;
    let words = page.split("What was checked").nth(1).unwrap();
    for said in [
        format!("All {size} changes recorded since the ledger began are intact and in order"),
        "Independent chair chair co-signed the record as it stood on".to_owned(),
        format!("its first {cosigned_size} changes; nothing recorded before then has been altered or removed since."),
        "recorded after that".to_owned(),
    ] {
        assert!(words.contains(&said), "{said}\n{page}");
    }
    assert!(
        page.contains("Latest checkpoint (the ledger&#39;s own signature)")
            || page.contains("Latest checkpoint (the ledger's own signature)"),
        "{page}"
    );
    let dashboard = server.page(Role::Auditor, "/").body;
    assert!(
        dashboard.contains(&format!(
            "{cosigned_size} changes, by Independent chair chair"
        )) && dashboard.contains(&format!("{size} changes, signed by the ledger only")),
        "{dashboard}"
    );
}

/// A multipart upload of `file` to the import preview, as the form sends it.
fn upload(
    server: &Server,
    role: Role,
    file_name: &str,
    bytes: &[u8],
    fields: &[(&str, &str)],
) -> Reply {
    let (cookie, csrf) = server.session(role);
    let boundary = "assure-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    server.send(
        "POST",
        &format!("/import?csrf={}", encode(&csrf)),
        &[("Cookie", &cookie), ("Content-Type", &content_type)],
        &body,
    )
}

/// The confirmation token in a preview page.
fn token_in(page: &str) -> String {
    let at = page
        .find("name=\"token\" value=\"")
        .expect("a confirmation form")
        + 20;
    page[at..at + 64].to_owned()
}

fn import_fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/import")
            .join(name),
    )
    .unwrap()
}

#[test]
fn an_import_is_previewed_and_recorded_only_when_confirmed() {
    let server = Server::start();
    let size = || server.state().shared.read().size();
    let before = size();
    let docx = import_fixture("word-merged-priorities.docx");
    let shown = upload(
        &server,
        Role::Manager,
        "plan.docx",
        &docx,
        &[("plan", "web-docx"), ("effective", "2024-04-01")],
    );
    assert_eq!(shown.status, 200, "{}", shown.body);
    for needle in [
        "Check the import",
        "Development of the new safeguarding arrangements",
        "joined to action 1.1",
        "Record this plan",
    ] {
        assert!(shown.body.contains(needle), "{needle}: {}", shown.body);
    }
    assert_eq!(size(), before, "a preview records nothing");
    let token = token_in(&shown.body);
    // Another user cannot confirm it; the right one can, once.
    let other = server.form(Role::Chair, "/import/confirm", &[("token", &token)]);
    assert_eq!(other.status, 403, "{}", other.body);
    let confirmed = server.form(Role::Manager, "/import/confirm", &[("token", &token)]);
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    assert!(size() > before);
    let again = server.form(Role::Manager, "/import/confirm", &[("token", &token)]);
    assert_eq!(again.status, 404, "{}", again.body);
    // A spreadsheet and text go through the same preview.
    let xlsx = import_fixture("excel-title-block-fills.xlsx");
    let shown = upload(
        &server,
        Role::Manager,
        "plan.xlsx",
        &xlsx,
        &[("plan", "web-xlsx")],
    );
    assert!(
        shown.body.contains("Learning from reviews"),
        "{}",
        shown.body
    );
    let confirmed = server.form(
        Role::Manager,
        "/import/confirm",
        &[("token", &token_in(&shown.body))],
    );
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    // What the plan's own columns said is shown with the action, and in the CSV.
    let action = server.page(Role::Auditor, "/plans/web-xlsx/actions/1.1");
    assert!(
        action.body.contains("Output")
            && action
                .body
                .contains("Strategy and screening tool published"),
        "{}",
        action.body
    );
    let csv = server.page(Role::Auditor, "/plans/web-xlsx/csv");
    assert!(
        csv.body.contains("Other columns")
            && csv.body.contains("Output: Strategy and screening tool"),
        "{}",
        csv.body
    );
    let described = server.page(Role::Auditor, "/plans/web-docx");
    assert!(
        described.body.contains("Aim: How effectively"),
        "{}",
        described.body
    );
    // A file that is not a plan is refused with what it is, keeping the form.
    let pdf = upload(
        &server,
        Role::Manager,
        "plan.pdf",
        b"%PDF-1.4 hello",
        &[("plan", "web-pdf")],
    );
    assert_eq!(pdf.status, 422, "{}", pdf.body);
    assert!(
        pdf.body.contains("PDF") && pdf.body.contains("web-pdf"),
        "{}",
        pdf.body
    );
}

#[test]
fn a_preview_that_the_ledger_has_overtaken_is_shown_again_not_recorded() {
    let server = Server::start();
    let csv = b"ref,action\n7.1,First\n7.2,Second\n";
    let shown = upload(
        &server,
        Role::Manager,
        "plan.csv",
        csv,
        &[("plan", "raced")],
    );
    let token = token_in(&shown.body);
    // Meanwhile the same plan is imported through the API.
    let imported = server.import("raced", "ref,action\n7.1,First\n");
    assert_eq!(imported.status, 201, "{}", imported.body);
    let before = server.state().shared.read().size();
    let confirmed = server.form(Role::Manager, "/import/confirm", &[("token", &token)]);
    assert_eq!(
        server.state().shared.read().size(),
        before,
        "nothing recorded"
    );
    assert!(
        confirmed.body.contains("already has an action 7.1")
            || confirmed.body.contains("ledger changed"),
        "{}",
        confirmed.body
    );
    // A partner may not preview at all.
    let partner = upload(&server, Role::Partner, "plan.csv", csv, &[("plan", "p2")]);
    assert!(partner.denied(), "{}", partner.status);
}

#[test]
fn the_api_previews_an_import_without_recording_it() {
    let server = Server::start();
    let before = server.state().shared.read().size();
    let auth = server.bearer(Role::Manager);
    let reply = server.send(
        "POST",
        "/api/v1/plans/api-plan/import?dry_run=true&file_name=plan.csv&map=Notes%3Doutcome&legend=Purple%3Dred",
        &[("Authorization", &auth), ("Content-Type", "text/csv")],
        b"Ref,Action,Notes,RAG\n1.1,Do it,Board to review,Purple\n",
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let preview = reply.json();
    for key in ["columns", "priorities", "actions", "warnings"] {
        assert!(preview[key].is_array(), "{key}: {preview}");
    }
    assert_eq!(preview["actions"][0]["outcome"], "Board to review");
    assert_eq!(preview["actions"][0]["status"], "red");
    assert_eq!(
        server.state().shared.read().size(),
        before,
        "a dry run records nothing"
    );
}

/// A chair registered as a C2SP cosigner (vkey type 0x04) co-signs offline with
/// `--cosignature-v1`: the service keeps it, and the pages say when it was signed.
#[test]
fn a_cosignature_v1_from_the_chair_is_kept_and_says_when_it_was_made() {
    let server = Server::start();
    let data = server.state().data.clone();
    let cosigner = server.chair_key.verifier().as_cosigner().to_vkey_string();
    let registered = std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
        .arg("--data")
        .arg(&data)
        .args(["user", "vkey", "chair", &cosigner])
        .output()
        .unwrap();
    assert!(
        registered.status.success(),
        "{}",
        String::from_utf8_lossy(&registered.stderr)
    );
    assert_eq!(server.form(Role::Manager, "/checkpoint", &[]).status, 303);
    let held = server
        .api(Role::Auditor, "GET", "/api/v1/checkpoint", Value::Null)
        .json();
    let dir = tempfile::tempdir().unwrap();
    let (note_file, key_file) = (dir.path().join("checkpoint"), dir.path().join("chair.key"));
    std::fs::write(&note_file, held["note"].as_str().unwrap()).unwrap();
    std::fs::write(&key_file, server.chair_key.to_file_string()).unwrap();
    let signed = std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
        .args(["checkpoint", "cosign"])
        .arg(&note_file)
        .arg("--key")
        .arg(&key_file)
        .args(["--offline", "--cosignature-v1"])
        .output()
        .unwrap();
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let cosigned = String::from_utf8(signed.stdout).unwrap();
    // The service re-reads the accounts within a second or two.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let added = server.form(Role::Chair, "/checkpoint/cosign", &[("note", &cosigned)]);
        if added.status == 303 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", added.body);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let stored = ledger::checkpoint::SignedCheckpoint::parse(
        server
            .api(Role::Auditor, "GET", "/api/v1/checkpoint", Value::Null)
            .json()["note"]
            .as_str()
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    let verified = stored
        .note()
        .verify(&[server.chair_key.verifier().as_cosigner()])
        .unwrap();
    let at = verified[0].timestamp.expect("a cosignature/v1 says when");
    let now = chrono::Utc::now().timestamp() as u64;
    assert!(now.abs_diff(at) < 120, "signed at {at}, now {now}");
    let page = server.page(Role::Auditor, "/verify").body;
    assert!(page.contains("cosignature/v1) says it was made"), "{page}");
    assert!(page.contains("(signed "), "{page}");
}

/// An HTTP/1.1 chunked body, decoded (and checked to end with its last chunk).
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..line]).unwrap().trim(), 16).unwrap();
        raw = &raw[line + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&raw[..size]);
        assert_eq!(&raw[size..size + 2], b"\r\n");
        raw = &raw[size + 2..];
    }
}
