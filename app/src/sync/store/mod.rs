//! The sync engine on the server: applies pushed batches and answers pulls,
//! for every entity in the list it is given (`sync::entity::Entities`).
//!
//! Ordering: every push transaction first takes the one row of
//! `sync_counter` (an UPDATE, so it is a write lock on both SQLite and
//! PostgreSQL). Writers therefore commit one at a time and change sequence
//! numbers become visible in order, so a pull that has seen `seq = n` can
//! never later discover a change below `n`. No state lives in a server's
//! memory: any number of servers may share the database.
//!
//! Speed: a batch reads its earlier results and its records with one query
//! per entity, decides every mutation in memory (`decide`, a pure function
//! of the user, the mutation and the record), and sends its writes as
//! multi-row statements at the end, so a batch of 1,000 costs some twenty
//! statements rather than thousands.
//!
//! Layout, each module using only those above it: `sql` (what both
//! databases share), `current` (records as they stand), `writes` (the rows
//! of a transaction), `decide` (what a mutation does, in memory), `clocks`
//! (planned again, raised when due) and `projections` (rebuilt), then the
//! entry points that use them: `push`, `pull`, `conflicts` and `commands`
//! (changes from outside a push).

mod clocks;
mod commands;
mod conflicts;
mod current;
mod decide;
mod projections;
mod pull;
mod push;
mod sql;
mod writes;

pub use clocks::raise_due;
pub use commands::{command_by_link, reassign};
pub use conflicts::{open_conflicts, resolve, MAX_OPEN_CONFLICTS};
pub use projections::{fill_new_projections, rebuild_projections};
pub use pull::{epoch, ownership, pull, records, renew_epoch};
pub use push::push;
pub(crate) use sql::parse_json;
