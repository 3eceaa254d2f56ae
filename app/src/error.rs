//! The one error type of the `app` layer, shared by server functions and the UI.
//!
//! Errors carry codes, never prose: the browser renders them in the user's
//! language (see `i18n`), and the server maps each variant to an HTTP status in
//! exactly one place (`status_code`). Internal failures are logged on the server
//! and reach the client only as `Internal`.

use serde::{Deserialize, Serialize};
use server_fn_error::*;

/// What is wrong with one field of a submitted form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "problem")]
pub enum FieldProblem {
    Required,
    TooLong {
        max: usize,
    },
    InvalidPhone,
    InvalidEmail,
    InvalidDate,
    InvalidChoice,
    /// Not an amount of money (yuan, at most two decimals, not negative).
    InvalidMoney,
    /// Not a whole number in range.
    InvalidNumber,
    InFuture,
    /// A stored value of the wrong JSON type (text expected).
    WrongType,
    /// A stored text that is empty or has spaces around it: an empty field
    /// is left out, and a text is stored trimmed (as the forms send it).
    Untrimmed,
    /// Neither a phone nor an email: one of them is needed to reach anyone.
    PhoneOrEmail,
    /// An id of a record that does not exist or that the writer may not
    /// see (alike, so that probing ids reveals nothing).
    UnknownReference,
    /// A workflow field (a status, a code): only a command changes it.
    SetByCommand,
    /// A list of lines needs exactly one marked as the main one (a
    /// customer's primary contact).
    OnePrimary,
    /// Not a drawn signature (a PNG data URL), or too large.
    InvalidImage,
    /// A date set both as a day off and as a working day.
    DayOffAndWorking,
}

/// A field name (as in the request JSON) and its problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    #[serde(flatten)]
    pub problem: FieldProblem,
}

impl FieldError {
    pub fn new(field: &str, problem: FieldProblem) -> Self {
        Self {
            field: field.to_owned(),
            problem,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "error")]
pub enum AppError {
    /// No valid session: sign in first.
    #[error("not signed in")]
    Unauthenticated,
    /// Signed in, but the policy refuses this action or record.
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// The input parsed but breaks validation rules; one entry per field.
    #[error("invalid input")]
    Invalid { fields: Vec<FieldError> },
    /// A rule of the process refuses the command (or a patch of a field only
    /// commands change); `code` says which rule, in words via `i18n`.
    #[error("refused: {code}")]
    Refused {
        code: String,
        /// Who holds the record now, where the rule's words name them
        /// (a teammate who claimed a pooled customer first).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// The request itself is malformed: wrong JSON, unknown fields, wrong types.
    #[error("malformed request: {detail}")]
    BadRequest { detail: String },
    /// The request carries more than the documented limit.
    #[error("too large: at most {limit} items")]
    TooLarge { limit: usize },
    /// A pull from a cursor this server never gave (ahead of its last
    /// change: its database was restored from a backup): pull from 0.
    #[error("the cursor is ahead of the server's last change {head}")]
    CursorAhead { head: i64 },
    /// A push or pull made against another epoch of the database (it was
    /// restored from a backup since the device last synced): nothing was
    /// applied; the device sends again what it sent before and pulls from 0.
    #[error("the database was restored: epoch {epoch}")]
    EpochChanged { epoch: String },
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed sign-ins; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The server failed; details are in its log, never here.
    #[error("internal error")]
    Internal,
    /// The client could not reach the server (never produced by the server).
    #[error("network error")]
    Network,
}

impl AppError {
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        Self::Invalid { fields }
    }

    /// A refusal by a rule of the process, with its reason code.
    pub fn refused(code: &str) -> Self {
        Self::Refused {
            code: code.to_owned(),
            by: None,
        }
    }

    /// The HTTP status for this error: the only mapping in the code base.
    pub fn status_code(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            Self::Unauthenticated | Self::BadCredentials => S::UNAUTHORIZED,
            Self::Forbidden => S::FORBIDDEN,
            Self::NotFound => S::NOT_FOUND,
            Self::Invalid { .. } | Self::Refused { .. } => S::UNPROCESSABLE_ENTITY,
            Self::BadRequest { .. } => S::BAD_REQUEST,
            Self::CursorAhead { .. } | Self::EpochChanged { .. } => S::CONFLICT,
            Self::TooLarge { .. } => S::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => S::TOO_MANY_REQUESTS,
            Self::Internal => S::INTERNAL_SERVER_ERROR,
            Self::Network => S::BAD_GATEWAY,
        }
    }

    /// The problem of one field, if this is a validation error naming it.
    pub fn field(&self, name: &str) -> Option<FieldProblem> {
        match self {
            Self::Invalid { fields } => fields.iter().find(|f| f.field == name).map(|f| f.problem),
            _ => None,
        }
    }
}

mod server_fn_error {
    pub use leptos::server_fn::codec::JsonEncoding;
    pub use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => Self::Network,
            ServerFnErrorErr::Args(detail)
            | ServerFnErrorErr::Deserialization(detail)
            | ServerFnErrorErr::MissingArg(detail) => Self::BadRequest { detail },
            ServerFnErrorErr::UnsupportedRequestMethod(detail) => Self::BadRequest { detail },
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failure");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                Self::Internal
            }
        }
    }

    /// Serialising happens on the server just before the error is sent, inside
    /// the request's reactive owner: the one spot to set the HTTP status.
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(self.status_code());
        }
        use leptos::server_fn::Encodes;
        JsonEncoding::encode(self).unwrap_or_default()
    }
}

/// Why a command was refused: a stable code (shown to the user in words by
/// `i18n`), or field problems of its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A rule of the process says no, e.g. `already_closed`.
    Rule(&'static str),
    /// A rule says no because of someone else's hold on the record (a
    /// teammate claimed it first): the reason, and who it is.
    HeldBy(&'static str, String),
    /// The arguments break their field rules.
    Invalid(Vec<FieldError>),
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Rule(code) => AppError::refused(code),
            Refusal::HeldBy(code, by) => AppError::Refused {
                code: code.to_owned(),
                by: Some(by),
            },
            Refusal::Invalid(fields) => AppError::invalid(fields),
        }
    }
}
