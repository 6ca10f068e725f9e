//! What page forms and API bodies share: the fields of a challenge step and of a
//! carry-over, turned into the application layer's `Change`.

use projections::events::ActionRef;
use serde::{Deserialize, Serialize};

use projections::planned::CarryOptions;

use crate::app::{input, Change};

/// The fields of a challenge step (respond, escalate, close), from a page form or
/// an API body.
#[derive(Deserialize, Serialize, Default)]
pub(super) struct StepFields {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub impact: String,
    /// The date the response is due by (setting or moving it).
    #[serde(default)]
    pub due: String,
}

/// One step of a challenge's life.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    Respond,
    Escalate,
    Close,
    SetDue,
}

impl StepFields {
    /// The change a step's fields ask for (an empty impact is none).
    pub(super) fn change(self, id: &str, step: Step) -> anyhow::Result<Change> {
        let id = id.to_owned();
        Ok(match step {
            Step::Respond => Change::Respond {
                id,
                text: self.text,
                evidence: Vec::new(),
            },
            Step::Escalate => Change::Escalate {
                id,
                to: self.to,
                reason: self.reason,
            },
            Step::Close => Change::Close {
                id,
                outcome: self.outcome,
                impact: Some(self.impact).filter(|i| !i.trim().is_empty()),
            },
            Step::SetDue => Change::SetDue {
                id,
                due: input::optional_date(Some(&self.due), "the due date")?
                    .ok_or_else(|| anyhow::anyhow!("give the date the response is due by"))?,
                reason: self.reason,
            },
        })
    }
}

/// The fields of a carry-over, from the action page's form or an API body; empty
/// text counts as not given.
#[derive(Deserialize, Serialize, Default, Clone)]
pub(super) struct CarryFields {
    #[serde(default)]
    pub to_plan: String,
    /// Its ref in the new plan [default: the same ref].
    #[serde(default)]
    pub to_ref: Option<String>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub forum: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub timescale: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub effective: Option<String>,
}

fn given(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

impl CarryFields {
    /// The carry-over of action `reference` of plan `id` these fields ask for.
    pub(super) fn change(self, id: &str, reference: &str) -> anyhow::Result<Change> {
        let status = given(self.status).map(|s| input::status(&s)).transpose()?;
        let to_ref = given(self.to_ref).unwrap_or_else(|| reference.to_owned());
        Ok(Change::CarryOver {
            from: action_ref(id, reference),
            to: action_ref(self.to_plan.trim(), &to_ref),
            reason: self.reason,
            forum: given(self.forum),
            options: CarryOptions {
                priority: given(self.priority),
                timescale: given(self.timescale),
                status,
            },
        })
    }
}

pub(super) fn action_ref(id: &str, reference: &str) -> ActionRef {
    ActionRef {
        plan: id.to_owned(),
        reference: reference.to_owned(),
    }
}
