//! The demo company: a realistic team and a year of its leads.
//!
//! Deterministic (a fixed seed), so every demo database looks the same and a
//! screenshot or a bug report can name a record. Each later capability adds
//! its records here.

use crate::accounts::{self, AccountError, NewUser};
use app::leads::record::LEAD;
use app::leads::SOURCES;
use app::roles::{CurrentUser, Role};
use app::ssr::Db;
use app::sync::{Mutation, Op, PushBatch};
use chrono::{Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

pub const DEMO_PASSWORD: &str = "demo1234";

/// (username, name, role, team index)
const PEOPLE: &[(&str, &str, Role, Option<usize>)] = &[
    ("gm", "赵总", Role::GeneralManager, None),
    ("manager", "钱经理", Role::SalesManager, None),
    ("sup1", "孙主管", Role::Supervisor, Some(0)),
    ("sup2", "李主管", Role::Supervisor, Some(1)),
    ("rep1", "周晓明", Role::Rep, Some(0)),
    ("rep2", "吴芳", Role::Rep, Some(0)),
    ("rep3", "郑浩", Role::Rep, Some(0)),
    ("rep4", "王磊", Role::Rep, Some(1)),
    ("rep5", "冯丽", Role::Rep, Some(1)),
    ("rep6", "陈强", Role::Rep, Some(1)),
    ("agent1", "褚静", Role::ServiceAgent, None),
    ("agent2", "卫敏", Role::ServiceAgent, None),
    ("svc_sup", "严主管", Role::ServiceSupervisor, None),
    ("tech1", "蒋师傅", Role::Technician, None),
    ("tech2", "沈师傅", Role::Technician, None),
    ("finance", "韩会计", Role::Finance, None),
    ("legal", "杨律师", Role::Legal, None),
    ("admin", "朱管理员", Role::Admin, None),
];

const TEAMS: &[(&str, &str)] = &[("华东一组", "华东"), ("华南二组", "华南")];

const CITIES: &[&str] = &[
    "苏州", "无锡", "宁波", "杭州", "上海", "南京", "常州", "深圳", "东莞", "佛山", "广州", "厦门",
];
const NAMES: &[&str] = &[
    "恒达", "华瑞", "金鼎", "博远", "天成", "宏泰", "鑫源", "中科", "远航", "新锐", "立信", "瑞丰", "永盛",
    "嘉禾",
];
const INDUSTRIES: &[(&str, &str)] = &[
    ("精密机械", "机械制造"),
    ("电子科技", "电子"),
    ("新材料", "材料"),
    ("智能装备", "自动化设备"),
    ("医疗器械", "医疗"),
    ("食品", "食品饮料"),
    ("化工", "化工"),
    ("物流", "物流"),
    ("建材", "建材"),
    ("纺织", "纺织服装"),
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙",
];
const GIVEN: &[&str] = &[
    "建国", "丽华", "志强", "秀英", "海涛", "静", "磊", "芳", "伟", "敏", "晓东", "春梅",
];
const TITLES: &[&str] = &["采购经理", "总经理", "技术总监", "设备部主管", "厂长", "IT 经理"];
const NEEDS: &[&str] = &[
    "产线自动化改造，预计明年一季度立项",
    "现有设备老化，考虑替换",
    "希望了解售后服务体系与响应时间",
    "需要定制化方案，关注交付周期",
    "预算有限，先做小规模试点",
];
const SIZES: &[&str] = &["50人以下", "50-200人", "200-500人", "500-1000人", "1000人以上"];
const REVENUES: &[&str] = &["1000万以下", "1000万-5000万", "5000万-1亿", "1-5亿", "5亿以上"];

pub struct DemoSummary {
    pub users: usize,
    pub leads: usize,
}

/// Loads the demo into an empty database; refuses a database with users.
pub async fn load(db: &Db) -> Result<Option<DemoSummary>, AccountError> {
    if accounts::user_count(db).await? > 0 {
        return Ok(None);
    }
    let mut teams = Vec::new();
    for (team, region) in TEAMS {
        let region_id = accounts::ensure_region(db, region).await?;
        teams.push((accounts::ensure_team(db, team, Some(region_id)).await?, region_id));
    }
    let mut reps = Vec::new();
    for (username, name, role, team) in PEOPLE {
        let team_ids = team.map(|t| teams[t]);
        let id = accounts::add_user(
            db,
            NewUser {
                username,
                display_name: name,
                role: *role,
                team_id: team_ids.map(|t| t.0),
                region_id: team_ids.map(|t| t.1),
                password: DEMO_PASSWORD,
            },
        )
        .await?;
        match role {
            Role::Supervisor => {
                accounts::set_team_supervisor(db, team_ids.expect("supervisors lead a team").0, id).await?
            }
            Role::Rep => reps.push(CurrentUser {
                id,
                username: username.to_string(),
                display_name: name.to_string(),
                role: Role::Rep,
                team_id: team_ids.map(|t| t.0),
                time_zone: "Asia/Shanghai".into(),
            }),
            _ => {}
        }
    }
    let leads = load_leads(db, &reps).await?;
    Ok(Some(DemoSummary {
        users: PEOPLE.len(),
        leads,
    }))
}

/// Each lead enters as its rep's own create mutation, through the sync engine.
async fn load_leads(db: &Db, reps: &[CurrentUser]) -> Result<usize, AccountError> {
    let mut rng = StdRng::seed_from_u64(2026);
    let now = Utc::now();
    let tz = chrono_tz::Asia::Shanghai;
    let mut count = 0;
    for rep in reps {
        for _ in 0..rng.gen_range(40..60) {
            let pick = |rng: &mut StdRng, list: &[&'static str]| list[rng.gen_range(0..list.len())];
            let (suffix, industry) = INDUSTRIES[rng.gen_range(0..INDUSTRIES.len())];
            let company = format!(
                "{}{}{}有限公司",
                pick(&mut rng, CITIES),
                pick(&mut rng, NAMES),
                suffix
            );
            let contacted = now - Duration::minutes(rng.gen_range(60..365 * 24 * 60));
            let grade = ["A", "B", "B", "C", "C"][rng.gen_range(0..5)];
            // Screening's answers that propose the grade (7, 4 and 0 of 8).
            let [fit, scale, budget, chain] = match grade {
                "A" => ["fit_high", "scale_large", "budget_range", "chain_clear"],
                "B" => ["fit_medium", "scale_medium", "budget_range", "chain_partial"],
                _ => ["fit_low", "scale_small", "budget_unknown", "chain_unknown"],
            };
            let lead = serde_json::json!({
                "company": company,
                "industry": industry,
                "staff_size": pick(&mut rng, SIZES),
                "revenue_band": pick(&mut rng, REVENUES),
                "contact_name": format!("{}{}", pick(&mut rng, SURNAMES), pick(&mut rng, GIVEN)),
                "contact_title": pick(&mut rng, TITLES),
                "phone": format!("1{}{:09}", rng.gen_range(3..=9), rng.gen_range(0..1_000_000_000u32)),
                "source": pick(&mut rng, SOURCES),
                "initial_need": pick(&mut rng, NEEDS),
                "grade": grade,
                "industry_fit": fit,
                "scale": scale,
                "budget": budget,
                "decision_chain": chain,
                "contacted_at": contacted.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "next_step": "电话回访，确认需求细节",
                "next_step_date": (contacted.with_timezone(&tz) + Duration::days(rng.gen_range(1..14)))
                    .format("%Y-%m-%d")
                    .to_string(),
            });
            let serde_json::Value::Object(fields) = lead else {
                unreachable!("a JSON object")
            };
            LEAD.check(&fields, now)
                .map_err(|e| app::ssr::DbError::Corrupt(format!("demo lead invalid: {e:?}")))?;
            // Entered within a day of the contact (the 24-hour rule).
            let entered = contacted + Duration::minutes(rng.gen_range(5..24 * 60));
            let id = Uuid::now_v7();
            let batch = PushBatch {
                client_id: Uuid::nil(),
                epoch: None,
                mutations: vec![Mutation {
                    id,
                    entity: "lead".into(),
                    record_id: id,
                    base_version: 0,
                    op: Op::Upsert,
                    fields,
                    command: None,
                    base: Default::default(),
                }],
            };
            app::sync::store::push(db, app::aggregates::ENTITIES, rep, batch, entered.min(now)).await?;
            count += 1;
        }
    }
    Ok(count)
}

/// The lines printed after the demo loads or when the server starts on it.
pub fn logins_text() -> String {
    let mut text = format!("Demo logins (password {DEMO_PASSWORD}):\n");
    for (username, name, role, _) in PEOPLE {
        text.push_str(&format!("  {username:<8} {name} ({})\n", role.as_str()));
    }
    text
}
