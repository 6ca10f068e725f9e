//! The HTML pages, one file per page family, and the route table that names every
//! page with the role it needs.
//!
//! Reads come from `Live` (durable events only); every change is a `Change` of the
//! application layer sent to the writer, and the page answers after it is durable,
//! by redirecting to the page that shows it (post/redirect/get), or by showing the
//! form again with an error summary.

mod action;
mod agencies;
mod challenges;
mod dashboard;
pub(super) mod forms;
mod history;
mod plan;

pub mod report;
mod signin;
mod verification;

use axum::http::Method;

use crate::web::html;
use crate::web::{Need, Routes};
use action::*;
use agencies::*;
use challenges::*;
use dashboard::*;
use history::*;
use plan::*;
use report::*;
use signin::*;
use verification::*;

pub(super) fn register(routes: Routes) -> Routes {
    routes
        .add(Method::GET, "/static/style.css", Need::Public, || async {
            html::stylesheet()
        })
        .add(Method::GET, "/login", Need::Public, login_form)
        .add(Method::POST, "/login", Need::Public, login)
        .add(Method::POST, "/logout", Need::Read, logout)
        .add(Method::GET, "/", Need::Read, dashboard)
        .add(Method::GET, "/plans/{id}", Need::Read, plan_page)
        .add(Method::GET, "/plans/{id}/csv", Need::Read, plan_csv)
        .add(Method::GET, "/plans/{id}/report", Need::Audit, report_page)
        .add(
            Method::GET,
            "/plans/{id}/actions/{ref}",
            Need::Read,
            action_page,
        )
        .add(
            Method::POST,
            "/plans/{id}/actions/{ref}/status",
            Need::Manage,
            post_status,
        )
        .add(
            Method::POST,
            "/plans/{id}/actions/{ref}/progress",
            Need::Progress,
            post_progress,
        )
        .add(
            Method::POST,
            "/plans/{id}/actions/{ref}/carry-over",
            Need::Manage,
            post_carry_over,
        )
        .add(Method::GET, "/challenges", Need::Read, challenges_page)
        .add(Method::GET, "/challenges/csv", Need::Read, challenges_csv)
        .add(Method::POST, "/challenges", Need::Chair, post_raise)
        .add(Method::GET, "/challenges/{id}", Need::Read, challenge_page)
        .add(
            Method::POST,
            "/challenges/{id}/respond",
            Need::Respond,
            post_respond,
        )
        .add(
            Method::POST,
            "/challenges/{id}/escalate",
            Need::Chair,
            post_escalate,
        )
        .add(
            Method::POST,
            "/challenges/{id}/close",
            Need::Chair,
            post_close,
        )
        .add(Method::POST, "/challenges/{id}/due", Need::Chair, post_due)
        .add(Method::GET, "/agencies", Need::Read, agencies_page)
        .add(Method::POST, "/agencies", Need::Manage, post_agency)
        .add(Method::GET, "/history", Need::Audit, history_page)
        .add(Method::GET, "/verify", Need::Audit, verify_page)
        .add(Method::POST, "/verify", Need::Audit, run_verify)
        .add(Method::POST, "/checkpoint", Need::Manage, sign_checkpoint)
        .add(
            Method::POST,
            "/checkpoint/cosign",
            Need::Chair,
            cosign_checkpoint,
        )
        .add(Method::GET, "/export", Need::Audit, export_bundle)
        .add(Method::GET, "/evidence/{hash}", Need::Read, evidence)
}
