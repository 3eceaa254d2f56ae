//! 满意度调查, the satisfaction survey of a served customer (issue: after-sales;
//! seed 004, 6.7): a few scored questions, answered by the customer through
//! a link that needs no account and works once, or recorded by the service
//! desk on a call. The link's token is a secret only the server makes
//! (`Decided::secret`); holding it is what lets the customer answer.

use super::status_of;
use crate::roles::Role;
use crate::schema::{field, Field, Input};
use crate::stored::{instant_value, stored_instant, Reader};
use crate::sync::entity::{Clock, ClockCall, CommandCall, Decided, DueCall, Raised, Recipient, Refusal};
use crate::sync::Fields;
use serde_json::Value;

pub const SEND_SURVEY: &str = "send_survey";
pub const ANSWER_SURVEY: &str = "answer_survey";

/// The questions, each scored 1 to 5: how fast, how kind, how well solved.
pub const QUESTIONS: [Field; 3] = [
    field(
        "survey_speed",
        Input::Choice(SCORES),
        "响应速度",
        "Speed of response",
    ),
    field("survey_attitude", Input::Choice(SCORES), "服务态度", "Attitude"),
    field(
        "survey_result",
        Input::Choice(SCORES),
        "解决效果",
        "How well it was solved",
    ),
];
pub const SCORES: &[&str] = &["5", "4", "3", "2", "1"];
/// What the customer adds in their own words.
pub const REMARKS: Field = field(COMMENT, Input::Long, "意见与建议", "Comments");
/// An answer, as the desk records it on a call: every question scored.
pub const ANSWERS: &[Field] = &[
    QUESTIONS[0].required(),
    QUESTIONS[1].required(),
    QUESTIONS[2].required(),
    REMARKS,
];
/// The link's secret; when it was made; the answer's moment and who gave
/// it (`customer` through the link, else the agent's name).
pub const TOKEN: &str = "survey_token";
pub const SENT_AT: &str = "survey_sent_at";
pub const ANSWERED_AT: &str = "survey_answered_at";
pub const ANSWERED_BY: &str = "survey_answered_by";
pub const COMMENT: &str = "survey_comment";
/// What `answered_by` says of an answer through the link.
pub const BY_CUSTOMER: &str = "customer";

/// The clock that sends a served ticket's survey at the end of its period
/// (the company's `survey_period`).
pub const SURVEY_CLOCK: &str = "survey";

/// A survey whose period ended this long before it is raised (a server
/// down over the period's end, or a period set after the fact) is not
/// sent: turning the setting on must not survey every customer served in
/// years past.
pub const SURVEY_LATE_AFTER_DAYS: i64 = 7;

/// When a served ticket's survey is sent by the period: at the end of the
/// period it was resolved in (closed, for one closed without a
/// resolution). None while it runs, once sent or answered by hand, or
/// with surveys not by period.
pub fn survey_clock(call: &ClockCall) -> Option<Clock> {
    let fields = call.record;
    if !awaits_survey(fields) {
        return None;
    }
    let served = stored_instant(fields, "resolved_at").or_else(|| stored_instant(fields, "closed_at"))?;
    let period = crate::settings::ProcessSettings::of(call.singles).survey_period;
    Some(Clock {
        kind: SURVEY_CLOCK,
        due_at: period.end_of(served, call.tz)?,
    })
}

/// The period's survey of one ticket: the link's secret made, and the
/// service desk told to send it. Nothing for a ticket already surveyed,
/// no longer served, or raised too late.
pub fn raise_survey(call: &DueCall) -> Raised {
    let late = call.now - call.due_at > chrono::Duration::days(SURVEY_LATE_AFTER_DAYS);
    if !awaits_survey(call.record) || late {
        return Raised::default();
    }
    Raised {
        changes: std::iter::once((SENT_AT.to_owned(), instant_value(call.now))).collect(),
        notify: vec![Recipient::Role(Role::ServiceAgent)],
        to_pool: false,
        secret: Some(TOKEN),
    }
}

/// Resolved or closed: a service the customer may be asked about.
fn is_served(fields: &Fields) -> bool {
    super::is_done(status_of(fields))
}

/// Served, and no survey sent or answered yet.
fn awaits_survey(fields: &Fields) -> bool {
    let sent = fields.get(SENT_AT).is_some_and(|v| !v.is_null());
    is_served(fields) && !sent && !is_answered(fields)
}

pub fn is_answered(fields: &Fields) -> bool {
    fields.get(ANSWERED_AT).is_some_and(|v| !v.is_null())
}

fn is_desk(role: Role) -> bool {
    matches!(role, Role::ServiceAgent | Role::ServiceSupervisor)
}

/// The survey link's secret is the desk's to give the customer: a
/// technician (or anyone else who reads the ticket) never receives it, so
/// nobody but the customer can answer through the link.
pub fn hidden_from(user: &crate::roles::CurrentUser, _: crate::policy::Ownership) -> &'static [&'static str] {
    if is_desk(user.role) {
        &[]
    } else {
        &[TOKEN]
    }
}

/// `send_survey` (the service desk, a resolved or closed ticket not yet
/// answered: the server makes the link's token; sending again makes a new
/// one, and the old link stops working) and `answer_survey` (the scores
/// and a comment, once: by the desk on a call, or by whoever holds the
/// link's token).
pub fn decide_survey(call: &CommandCall) -> Result<Decided, Refusal> {
    if is_answered(call.record) {
        return Err(Refusal::Rule("survey_used"));
    }
    let served = is_served(call.record);
    match call.name {
        SEND_SURVEY => {
            if !is_desk(call.actor.role) {
                return Err(Refusal::Rule("survey_by_service_desk"));
            }
            if !served {
                return Err(Refusal::Rule("survey_not_served"));
            }
            let mut decided =
                Decided::changes(std::iter::once((SENT_AT.to_owned(), instant_value(call.now))).collect());
            decided.secret = Some(TOKEN);
            Ok(decided)
        }
        ANSWER_SURVEY => {
            // Through the link, the server answers for whoever holds the
            // token (`store::command_by_link`); a signed-in user pushing
            // the token is no link.
            let stored = call.record.get(TOKEN).and_then(Value::as_str);
            let given = call.args.get(TOKEN).and_then(Value::as_str);
            let by_link =
                call.actor.id == crate::sync::entity::LINK_HOLDER && stored.is_some() && given == stored;
            if !by_link && !is_desk(call.actor.role) {
                return Err(Refusal::Rule("survey_link_invalid"));
            }
            if !served {
                return Err(Refusal::Rule("survey_not_served"));
            }
            let mut read = Reader::args(call.args);
            crate::schema::check(ANSWERS, &mut read, call.now);
            read.finish().map_err(Refusal::Invalid)?;
            let mut changes: Fields = QUESTIONS
                .iter()
                .map(|q| (q.name.to_owned(), call.args[q.name].clone()))
                .collect();
            if let Some(comment) = call.args.get(COMMENT).and_then(Value::as_str).map(str::trim) {
                if !comment.is_empty() {
                    changes.insert(COMMENT.into(), Value::String(comment.to_owned()));
                }
            }
            changes.insert(ANSWERED_AT.into(), instant_value(call.now));
            let by = if by_link {
                BY_CUSTOMER.to_owned()
            } else {
                call.actor.display_name.clone()
            };
            changes.insert(ANSWERED_BY.into(), Value::String(by));
            // A used link is spent.
            changes.insert(TOKEN.into(), Value::Null);
            Ok(Decided::changes(changes))
        }
        _ => Err(Refusal::Rule("unknown_command")),
    }
}

/// What an answer's refusal may name: the answers, and the ticket's fields
/// (its whole check runs with the answer).
fn answer_and_ticket_fields() -> Vec<Field> {
    ANSWERS.iter().chain(super::TICKET.fields).copied().collect()
}

/// What the survey page shows the customer before they answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SurveyInvite {
    pub customer_name: String,
    pub description: String,
}

/// `POST /api/survey/show`: the survey behind a link, for anyone holding
/// it (no account). A spent, replaced or unknown token answers `not_found`.
#[leptos::server(endpoint = "survey/show", input = leptos::server_fn::codec::Json)]
pub async fn show_survey(token: String) -> Result<SurveyInvite, crate::error::AppError> {
    if let Some(page) = leptos::prelude::use_context::<store::SurveyOfPage>() {
        if page.token == token {
            return page.invite;
        }
    }
    store::invite(&crate::ssr::state()?.db, &token).await
}

/// `POST /api/survey/answer`: the customer's answer through the link,
/// applied as the ticket's `answer_survey` command by the server (the
/// token is the authority), once. The survey page posts its form to
/// `/survey/{token}` instead, which answers the same way (`store::answer`).
#[leptos::server(endpoint = "survey/answer", input = leptos::server_fn::codec::Json)]
pub async fn answer_survey(token: String, answers: Fields) -> Result<(), crate::error::AppError> {
    let entities = crate::sync::entity::registered()?;
    store::answer(&crate::ssr::state()?.db, entities, token, answers).await
}

/// Whether `text` has the shape of a link's token (32 hex digits, as the
/// server makes them); anything else names no survey.
pub fn is_token(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Where the survey page's form posts (`POST /survey/{token}`, a plain form
/// post that needs no script), and where the server sends the browser
/// after it: the same page, saying it was answered or why not.
pub fn survey_path(token: &str) -> String {
    format!("/survey/{token}")
}

/// The query of the page after a form post that was answered.
pub const ANSWERED_QUERY: &str = "answered";
/// The query of the page after a form post that was refused: the error as
/// JSON (`?error={"error":"refused","code":"survey_used"}`).
pub const ERROR_QUERY: &str = "error";

/// `/survey/:token`: the customer's survey page, without an account: the
/// questions, a comment, one submission. A used or replaced link says so.
///
/// A customer opens it once, on their own phone, often on a weak signal:
/// the server renders it whole and sends it without the app's script
/// (`shell::PAGES_WITHOUT_APP_SCRIPT`), and its form is a plain post,
/// which the browser validates (every score chosen) and the server
/// answers with a redirect back here.
#[leptos::component]
pub fn SurveyPage() -> impl leptos::IntoView {
    use crate::ui::use_locale;
    use leptos::prelude::*;
    use leptos_router::hooks::{use_params_map, use_query_map};
    let locale = use_locale();
    let params = use_params_map();
    let query = use_query_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    // A form post answers with a whole new page: what it says is read once.
    if query.with_untracked(|q| q.get(ANSWERED_QUERY).is_some()) {
        return view! {
            <leptos_meta::Title text=locale.word("survey_title") />
            <h1>{locale.word("survey_title")}</h1>
            <p class="card" data-testid="survey-thanks">{locale.word("survey_thanks")}</p>
        }
        .into_any();
    }
    // Ready at once while the server renders the page (`store::SurveyOfPage`).
    let invite = Resource::new(token, show_survey);
    let refused = move || {
        query.with(|q| {
            q.get(ERROR_QUERY)
                .and_then(|json| serde_json::from_str::<crate::error::AppError>(&json).ok())
        })
    };
    let form = move |token: String| {
        let questions = QUESTIONS
            .iter()
            .map(|question| {
                view! {
                    <label class="field">
                        <span>{locale.say(question.label)}</span>
                        <select name=question.name data-testid=format!("survey-{}", question.name) required>
                            <option value="">{locale.texts().choose}</option>
                            {SCORES
                                .iter()
                                .map(|score| view! { <option value=*score>{locale.option(score).unwrap_or(score)}</option> })
                                .collect_view()}
                        </select>
                    </label>
                }
            })
            .collect_view();
        view! {
            <form class="card lead-form" data-testid="survey-form" method="post" action=survey_path(&token)>
                <p>{locale.word("survey_intro")}</p>
                {questions}
                <label class="field">
                    <span>{locale.say(REMARKS.label)} <small class="muted">{locale.texts().optional}</small></span>
                    <textarea name=COMMENT data-testid="survey-comment" rows="3" maxlength=crate::schema::LONG_TEXT></textarea>
                </label>
                {refused().map(|e| view! { <p class="form-error" role="alert" data-testid="survey-refused">{crate::schema::error_in_words(locale, &e, &answer_and_ticket_fields())}</p> })}
                <div class="actions">
                    <button class="primary" type="submit" data-testid="survey-submit">{locale.word("survey_submit")}</button>
                </div>
            </form>
        }
    };

    view! {
        <leptos_meta::Title text=locale.word("survey_title") />
        <h1>{locale.word("survey_title")}</h1>
        <Suspense fallback=move || view! { <p class="empty">{locale.texts().loading}</p> }>
            {move || Suspend::new(async move {
                match invite.await {
                    Err(_) => view! { <p class="card" data-testid="survey-gone">{locale.word("survey_gone")}</p> }.into_any(),
                    Ok(invite) => view! {
                        <p class="muted" data-testid="survey-about">{format!("{} · {}", invite.customer_name, invite.description)}</p>
                        {form(token())}
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[cfg(feature = "ssr")]
pub mod store {
    //! The ticket a survey link names, found by the projection's token column.

    use crate::ssr::session::parse_uuid;
    use crate::ssr::{Db, DbError};
    use crate::sync::Fields;

    /// The survey of a page being rendered, read by the page handler
    /// before the render starts (as `crate::ssr::SessionUser`): the page's
    /// invite is then ready at its first poll, so the server sends the
    /// questions in the document itself rather than streamed after it for
    /// a script to move into place. The page works with no script at all.
    #[derive(Clone, Debug)]
    pub struct SurveyOfPage {
        pub token: String,
        pub invite: Result<super::SurveyInvite, crate::error::AppError>,
    }

    impl SurveyOfPage {
        /// The survey `path` names (`/survey/<token>`), if it is a survey's page.
        pub async fn read(db: &Db, path: &str) -> Option<Self> {
            let token = path.strip_prefix("/survey/")?.to_owned();
            let invite = invite(db, &token).await;
            Some(Self { token, invite })
        }
    }

    /// What the survey behind a link shows; `not_found` for a spent,
    /// replaced or unknown token.
    pub async fn invite(db: &Db, token: &str) -> Result<super::SurveyInvite, crate::error::AppError> {
        let (_, fields) = by_token(db, token)
            .await?
            .ok_or(crate::error::AppError::NotFound)?;
        let text = |name: &str| {
            fields
                .get(name)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Ok(super::SurveyInvite {
            customer_name: text("customer_name"),
            description: text("description"),
        })
    }

    pub async fn by_token(db: &Db, token: &str) -> Result<Option<(uuid::Uuid, Fields)>, DbError> {
        if !super::is_token(token) {
            return Ok(None);
        }
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT t.id, r.data FROM ticket_rows t JOIN records r ON r.entity = 'ticket' AND r.id = t.id \
             WHERE t.survey_token = $1 AND t.deleted = 0",
        )
        .bind(token)
        .fetch_optional(&db.pool)
        .await?;
        row.map(|(id, data)| Ok((parse_uuid(&id)?, crate::sync::store::parse_json(&data)?)))
            .transpose()
    }

    /// The customer's answer through the link: the ticket's `answer_survey`
    /// command, decided by the server for whoever holds the token.
    pub async fn answer(
        db: &Db,
        entities: crate::sync::entity::Entities,
        token: String,
        answers: Fields,
    ) -> Result<(), crate::error::AppError> {
        let Some((id, _)) = by_token(db, &token).await? else {
            return Err(crate::error::AppError::NotFound);
        };
        let mut args = answers;
        args.insert(super::TOKEN.into(), serde_json::Value::String(token));
        crate::sync::store::command_by_link(
            db,
            entities,
            &super::super::TICKET,
            id,
            super::ANSWER_SURVEY,
            args,
            chrono::Utc::now(),
        )
        .await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Ownership;
    use crate::roles::CurrentUser;
    use crate::sync::entity::Context;
    use serde_json::json;
    use uuid::Uuid;

    fn person(role: Role) -> CurrentUser {
        CurrentUser {
            id: Uuid::from_u128(7),
            username: "agent1".into(),
            display_name: "褚静".into(),
            role,
            team_id: None,
            time_zone: "Asia/Shanghai".into(),
        }
    }

    fn run(name: &str, actor: &CurrentUser, record: &Fields, args: Value) -> Result<Decided, Refusal> {
        decide_survey(&CommandCall {
            name,
            args: args.as_object().unwrap(),
            record,
            ownership: Ownership {
                owner_id: Uuid::from_u128(9),
                owner_team_id: None,
            },
            actor,
            now: "2026-12-05T02:00:00Z".parse().unwrap(),
            context: &Context::default(),
        })
    }

    fn resolved() -> Fields {
        json!({"customer_name": "宁波远航物流", "status": "resolved"})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn the_desk_sends_a_link_whose_token_the_server_makes_and_it_is_answered_once() {
        let agent = person(Role::ServiceAgent);
        let mut ticket = resolved();
        let sent = run(SEND_SURVEY, &agent, &ticket, json!({})).unwrap();
        assert_eq!(sent.secret, Some(TOKEN));
        assert!(!sent.changes.contains_key(TOKEN), "the device never makes it");
        ticket.extend(sent.changes);
        ticket.insert(TOKEN.into(), json!("0123456789abcdef0123456789abcdef"));
        let scores = json!({"survey_speed": "5", "survey_attitude": "4", "survey_result": "5",
                            "survey_comment": " 师傅很专业 ", "survey_token": "0123456789abcdef0123456789abcdef"});
        // Through the link, with a wrong token: refused; a technician who
        // read the token off the ticket is no link either.
        let link = CurrentUser {
            id: crate::sync::entity::LINK_HOLDER,
            ..person(Role::Admin)
        };
        let mut wrong = scores.clone();
        wrong["survey_token"] = json!("ffffffffffffffffffffffffffffffff");
        assert_eq!(
            run(ANSWER_SURVEY, &link, &ticket, wrong).map(|d| d.changes),
            Err(Refusal::Rule("survey_link_invalid"))
        );
        assert_eq!(
            run(ANSWER_SURVEY, &person(Role::Technician), &ticket, scores.clone()).map(|d| d.changes),
            Err(Refusal::Rule("survey_link_invalid"))
        );
        let answered = run(ANSWER_SURVEY, &link, &ticket, scores.clone()).unwrap();
        assert_eq!(answered.changes[ANSWERED_BY], BY_CUSTOMER);
        assert_eq!(answered.changes[COMMENT], "师傅很专业");
        assert_eq!(answered.changes[TOKEN], Value::Null);
        ticket.extend(answered.changes);
        // What the answer stored passes the ticket's check.
        let later = chrono::Utc::now() + chrono::Duration::days(3650);
        let problems = super::super::TICKET
            .check(&ticket, later)
            .err()
            .unwrap_or_default();
        assert!(
            !problems.iter().any(|e| e.field.starts_with("survey")),
            "{problems:?}"
        );
        // Once.
        assert_eq!(
            run(ANSWER_SURVEY, &agent, &ticket, scores).map(|d| d.changes),
            Err(Refusal::Rule("survey_used"))
        );
    }

    #[test]
    fn the_desk_records_answers_on_a_call_but_only_for_a_served_ticket_and_with_scores_1_to_5() {
        let agent = person(Role::ServiceAgent);
        let answers = json!({"survey_speed": "3", "survey_attitude": "3", "survey_result": "2"});
        let on_call = run(ANSWER_SURVEY, &agent, &resolved(), answers.clone()).unwrap();
        assert_eq!(on_call.changes[ANSWERED_BY], "褚静");
        let mut open = resolved();
        open.insert("status".into(), json!("open"));
        assert_eq!(
            run(ANSWER_SURVEY, &agent, &open, answers).map(|d| d.changes),
            Err(Refusal::Rule("survey_not_served"))
        );
        assert!(matches!(
            run(ANSWER_SURVEY, &agent, &resolved(), json!({"survey_speed": "6"})),
            Err(Refusal::Invalid(_))
        ));
        assert_eq!(
            run(SEND_SURVEY, &person(Role::Technician), &resolved(), json!({})).map(|d| d.changes),
            Err(Refusal::Rule("survey_by_service_desk"))
        );
    }

    fn monthly() -> crate::sync::entity::Singles {
        let mut singles = crate::sync::entity::Singles::default();
        let settings = json!({"company_name": "甬城科技", "survey_period": "monthly"});
        singles.0.insert(
            crate::settings::SETTINGS.name,
            settings.as_object().unwrap().clone(),
        );
        singles
    }

    #[test]
    fn a_ticket_served_in_a_month_is_surveyed_at_the_months_end_once() {
        let at = |raw: &str| raw.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        let tz = chrono_tz::Asia::Shanghai;
        let mut ticket = resolved();
        // Resolved at 23:30 on 31 December in Shanghai: December's survey.
        ticket.insert("resolved_at".into(), json!("2026-12-31T15:30:00Z"));
        let singles = monthly();
        let clock = |record: &Fields, singles: &crate::sync::entity::Singles| {
            survey_clock(&ClockCall {
                id: Uuid::nil(),
                record,
                tz,
                singles,
            })
        };
        let due = at("2026-12-31T16:00:00Z");
        assert_eq!(clock(&ticket, &singles).map(|c| c.due_at), Some(due));
        // Surveys not by period, a ticket still open, one already sent:
        // no clock.
        let never = crate::sync::entity::Singles::default();
        assert_eq!(clock(&ticket, &never), None);
        let mut open = ticket.clone();
        open.insert("status".into(), json!("dispatched"));
        assert_eq!(clock(&open, &singles), None);
        let mut sent = ticket.clone();
        sent.insert(SENT_AT.into(), json!("2026-12-20T02:00:00Z"));
        assert_eq!(clock(&sent, &singles), None);

        let raise = |record: &Fields, now| {
            raise_survey(&DueCall {
                kind: SURVEY_CLOCK,
                id: Uuid::nil(),
                record,
                owner: Uuid::nil(),
                due_at: due,
                now,
            })
        };
        let raised = raise(&ticket, due);
        assert_eq!(raised.secret, Some(TOKEN));
        assert_eq!(raised.changes[SENT_AT], "2026-12-31T16:00:00Z");
        assert_eq!(raised.notify, [Recipient::Role(Role::ServiceAgent)]);
        // Raised a week late (the server was down): still sent; a second
        // later, not; and never for a ticket surveyed meanwhile.
        let week = chrono::Duration::days(SURVEY_LATE_AFTER_DAYS);
        assert!(raise(&ticket, due + week).secret.is_some());
        assert_eq!(
            raise(&ticket, due + week + chrono::Duration::seconds(1)),
            Raised::default()
        );
        assert_eq!(raise(&sent, due), Raised::default());
    }
}
