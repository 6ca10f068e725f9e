//! Assure's domain: the events that happen to plans, actions and challenges, and the
//! pure folds that turn them into views (the plan as it stood on any date, the
//! challenge log, the history, an action's timeline across carry-overs).
//!
//! Nothing in this crate does IO, reads a clock or draws randomness: events in,
//! views out, so any view can be rebuilt from the log alone at any position.

pub mod erasure;
pub mod events;
pub mod order;
pub mod planned;
pub mod read;
pub mod timescale;
pub mod views;
pub mod world;

pub use events::{ActionRef, DomainEvent, Rag};
pub use world::{Recorded, Rejection, Stamp, World};

#[cfg(test)]
mod tests;
