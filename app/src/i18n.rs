//! The interface's two languages. zh-CN is the default; English is selectable.
//!
//! A plain typed table rather than a translation framework: every text is a
//! field, so a missing translation is a compile error, and the same table
//! renders identically on the server and in the browser (hydration needs that).
//! The choice travels in the `fb_lang` cookie, so the server renders the page
//! in the language the browser will show.

use crate::error::{AppError, FieldProblem};
use crate::roles::Role;
use serde::{Deserialize, Serialize};

pub const LOCALE_COOKIE: &str = "fb_lang";

/// A text in both languages the app speaks, declared together where it is
/// used (a field's label, an entity's name), so neither can be missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    pub zh: &'static str,
    pub en: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    /// `words` in this language.
    pub fn say(self, words: Words) -> &'static str {
        match self {
            Self::ZhCn => words.zh,
            Self::En => words.en,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "zh-CN" | "zh" => Some(Self::ZhCn),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The locale chosen in a `Cookie:` header value, or the default.
    pub fn from_cookie_header(header: &str) -> Self {
        header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == LOCALE_COOKIE)
            .and_then(|(_, value)| Self::parse(value))
            .unwrap_or_default()
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Self::ZhCn => &ZH_CN,
            Self::En => &EN,
        }
    }
}

/// Every text of the interface.
pub struct Texts {
    pub app_name: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub leads: &'static str,
    pub save: &'static str,
    pub cancel: &'static str,
    pub loading: &'static str,
    pub owner: &'static str,
    /// A record this device does not hold (not synced here, or not yours).
    pub not_on_device: &'static str,
    pub optional: &'static str,
    pub fix_fields: &'static str,
    /// 查重: records that may be the same company.
    pub possible_duplicates: &'static str,
    pub choose: &'static str,
    pub online: &'static str,
    pub offline: &'static str,
    pub waiting: &'static str,
    pub all_synced: &'static str,
    pub last_sync: &'static str,
    pub never_synced: &'static str,
    pub sync_now: &'static str,
    pub syncing: &'static str,
    pub saved_on_device: &'static str,
    /// A save while online: it is on its way to the server.
    pub saved_syncing: &'static str,
    pub add_another: &'static str,
    pub sync_failed: &'static str,
    pub no_records: &'static str,
    pub not_synced: &'static str,
    pub settings: &'static str,
    pub device_storage: &'static str,
    pub storage_unknown: &'static str,
    pub storage_warning: &'static str,
    pub conflicts: &'static str,
    pub conflicts_waiting: &'static str,
    pub no_conflicts: &'static str,
    pub conflicts_explained: &'static str,
    pub current_value: &'static str,
    pub overwritten_value: &'static str,
    pub changed_by: &'static str,
    pub keep_current: &'static str,
    pub restore_overwritten: &'static str,
    pub empty_value: &'static str,
    pub records_received: &'static str,
    pub showing_newest: &'static str,
    pub search: &'static str,
    pub search_hint: &'static str,
    pub matches: &'static str,
    pub all_owners: &'static str,
    pub no_matches: &'static str,
    pub sign_out_needs_network: &'static str,
}

pub static ZH_CN: Texts = Texts {
    app_name: "Fieldbook 销售服务",
    sign_in: "登录",
    sign_out: "退出",
    username: "用户名",
    password: "密码",
    leads: "线索",
    save: "保存",
    cancel: "取消",
    loading: "加载中…",
    owner: "负责人",
    not_on_device: "本机没有这条记录（尚未同步或无权查看）。",
    optional: "选填",
    fix_fields: "请修正标出的字段。",
    possible_duplicates: "可能重复的客户：",
    choose: "请选择",
    online: "在线",
    offline: "离线",
    waiting: "条待同步",
    all_synced: "已全部同步",
    last_sync: "上次同步",
    never_synced: "尚未同步",
    sync_now: "立即同步",
    syncing: "同步中…",
    saved_on_device: "已保存在本机，联网后自动同步。",
    saved_syncing: "已保存，正在同步…",
    add_another: "继续新增",
    sync_failed: "同步失败",
    no_records: "还没有记录。",
    not_synced: "待同步",
    settings: "设置",
    device_storage: "本机存储",
    storage_unknown: "浏览器未提供存储用量。",
    storage_warning: "本机存储将满：请联网同步，并清理浏览器中其他网站的数据。未同步的记录不会被删除。",
    conflicts: "冲突处理",
    conflicts_waiting: "处修改冲突待处理",
    no_conflicts: "没有待处理的修改冲突。",
    conflicts_explained:
        "两台设备改了同一项：后到服务器的修改已生效，被覆盖的内容保留在这里，请选择保留哪一个。",
    current_value: "现在的内容",
    overwritten_value: "被覆盖的内容",
    changed_by: "修改人",
    keep_current: "保留现在的内容",
    restore_overwritten: "改回被覆盖的内容",
    empty_value: "（空）",
    records_received: "条已接收",
    showing_newest: "显示最新的",
    search: "搜索",
    search_hint: "名称、联系人、电话、备注…",
    matches: "符合条件",
    all_owners: "全部负责人",
    no_matches: "没有符合条件的记录。",
    sign_out_needs_network: "退出登录需要联网，请联网后再试。",
};

pub static EN: Texts = Texts {
    app_name: "Fieldbook",
    sign_in: "Sign in",
    sign_out: "Sign out",
    username: "Username",
    password: "Password",
    leads: "Leads",
    save: "Save",
    cancel: "Cancel",
    loading: "Loading…",
    owner: "Owner",
    not_on_device: "This device does not hold this record (not synced yet, or not yours).",
    optional: "optional",
    fix_fields: "Please correct the marked fields.",
    possible_duplicates: "Possibly the same company:",
    choose: "Choose",
    online: "Online",
    offline: "Offline",
    waiting: "waiting to sync",
    all_synced: "All synced",
    last_sync: "Last sync",
    never_synced: "Not synced yet",
    sync_now: "Sync now",
    syncing: "Syncing…",
    saved_on_device: "Saved on this device; it syncs when the network is back.",
    saved_syncing: "Saved; syncing…",
    add_another: "Add another",
    sync_failed: "Sync failed",
    no_records: "No records yet.",
    not_synced: "Not synced",
    settings: "Settings",
    device_storage: "Storage on this device",
    storage_unknown: "The browser does not report storage use.",
    storage_warning: "This device's storage is nearly full: sync while online and clear other sites' data. Unsynced records are never deleted.",
    conflicts: "Conflicts",
    conflicts_waiting: "edit conflicts to review",
    no_conflicts: "No edit conflicts to review.",
    conflicts_explained: "Two devices changed the same item: the edit that reached the server last is in effect; the value it replaced is kept here. Choose which one stays.",
    current_value: "Current",
    overwritten_value: "Overwritten",
    changed_by: "Changed by",
    keep_current: "Keep current",
    restore_overwritten: "Restore overwritten",
    empty_value: "(empty)",
    records_received: "records received",
    showing_newest: "Showing the newest",
    search: "Search",
    search_hint: "Name, contact, phone, notes…",
    matches: "match",
    all_owners: "All owners",
    no_matches: "Nothing matches.",
    sign_out_needs_network: "Signing out needs the network; try again once online.",
};

/// Words of the customer aggregate (its fields, choices, statuses and
/// commands): key, zh-CN, English.
const WORDS: &[(&str, &str, &str)] = &[
    ("approval", "审批", "Approval"),
    ("edit", "编辑", "Edit"),
    (
        "reference_search",
        "按名称、编号或电话查找",
        "Find by name, code or phone",
    ),
    ("reference_choose", "关联", "Link"),
    ("reference_clear", "取消关联", "Unlink"),
    (
        "reference_none",
        "未关联，可稍后编辑关联",
        "Not linked; link it later by editing",
    ),
    ("reference_not_here", "（本机没有该记录）", "(not on this device)"),
    ("cash", "现金", "Cash"),
    ("cheque", "支票", "Cheque"),
    ("transfer", "转账", "Transfer"),
    ("credit_good", "信用良好", "Good"),
    ("credit_fair", "信用一般", "Fair"),
    ("credit_poor", "信用较差", "Poor"),
    ("class_a", "A 类", "Class A"),
    ("class_b", "B 类", "Class B"),
    ("class_c", "C 类", "Class C"),
    ("class_d", "D 类", "Class D"),
    ("draft", "草稿", "Draft"),
    ("pending", "审批中", "Pending approval"),
    ("approved", "已认定", "Recognised"),
    ("rejected", "已退回", "Returned"),
    ("open", "待处理", "Open"),
    ("contacted", "已联系", "Contacted"),
    ("in_progress", "处理中", "In progress"),
    ("resolved", "已解决", "Resolved"),
    ("closed", "已关闭", "Closed"),
    ("submit", "提交审批", "Submit for approval"),
    ("approve", "同意", "Approve"),
    ("reject", "退回", "Return"),
    ("contact", "已联系客户", "Customer contacted"),
    ("start", "开始处理", "Start work"),
    ("resolve", "已解决", "Resolve"),
    ("close", "关闭工单", "Close"),
    ("reopen", "重新打开", "Reopen"),
    ("waiting_for_me", "待我审批", "Waiting for me"),
    ("applicant", "申请人", "Applicant"),
    ("approval_round", "第 {} 轮", "Round {}"),
    ("deadlines", "时限", "Deadlines"),
    ("service_board", "服务看板", "Service board"),
    ("open_tickets", "未结工单", "Open tickets"),
    ("age_under_2h", "2 小时内", "Under 2 hours"),
    ("age_2h_24h", "2-24 小时", "2 to 24 hours"),
    ("age_1d_3d", "1-3 天", "1 to 3 days"),
    ("age_over_3d", "3 天以上", "Over 3 days"),
    ("clock_running", "计时中", "running"),
    ("clock_overdue", "已超时", "overdue"),
    ("escalated", "已上报", "escalated"),
    ("rate", "达成率", "rate"),
    (
        "technician_workload",
        "技师工作量（未结工单）",
        "Technicians' open tickets",
    ),
    ("not_dispatched", "未派工", "Not dispatched"),
    (
        "satisfaction_trend",
        "客户满意度（按月平均评分）",
        "Satisfaction (average rating by month)",
    ),
    ("deadline_contact", "2 小时内联系客户", "Contact within 2 hours"),
    ("deadline_handling", "24 小时内处理完毕", "Handle within 24 hours"),
    ("due_at", "截止", "due"),
    ("5", "5 分 · 非常满意", "5 · Very satisfied"),
    ("4", "4 分 · 满意", "4 · Satisfied"),
    ("3", "3 分 · 一般", "3 · Neutral"),
    ("2", "2 分 · 不满意", "2 · Dissatisfied"),
    ("1", "1 分 · 非常不满意", "1 · Very dissatisfied"),
    ("priority_urgent", "紧急", "Urgent"),
    ("priority_high", "高", "High"),
    ("priority_normal", "中", "Normal"),
    ("priority_low", "低", "Low"),
    ("dispatch", "派工", "Dispatch"),
    ("people_need_network", "联网后可选择人员", "Online to choose"),
    ("message", "短信/微信", "Message"),
    ("add_related", "新增", "Add"),
    ("notifications", "通知", "Notifications"),
    ("history", "修改历史", "History"),
    (
        "first_sync_filling",
        "首次同步中，记录正在到达本机…",
        "First sync under way: records are still arriving…",
    ),
    (
        "history_needs_network",
        "联网后可查看修改历史。",
        "The history shows when online.",
    ),
    ("system", "系统", "System"),
    ("updated", "（已更新）", "(updated)"),
    ("action_create", "创建", "Created"),
    ("action_update", "修改", "Edited"),
    ("action_delete", "删除", "Deleted"),
    ("action_reassign", "转交", "Reassigned"),
    (
        "action_raise_clock",
        "时限到期，已上报",
        "Deadline passed; escalated",
    ),
    ("entity_lead", "线索", "Lead"),
    ("entity_settings", "系统设置", "Settings"),
    ("company_settings", "公司设置", "Company settings"),
    (
        "settings_not_saved",
        "管理员尚未保存公司设置：按制度默认值执行。",
        "The admin has not saved the company settings yet: the standard numbers apply.",
    ),
    (
        "calendar_hours",
        "自然时间（每天 24 小时）",
        "Calendar hours (round the clock)",
    ),
    (
        "working_hours",
        "工作时间（工作日 9:00-18:00）",
        "Working hours (9:00-18:00 on working days)",
    ),
    ("no_survey", "不定期发出（由客服手动发送）", "Not by period (the service desk sends each)"),
    ("monthly", "每月", "Monthly"),
    ("quarterly", "每季度", "Quarterly"),
    (
        "notice_survey",
        "本期服务的满意度调查链接已生成，请发给客户",
        "The period's satisfaction survey link is ready: send it to the customer",
    ),
    ("entity_ticket", "工单", "Ticket"),
    ("entity_customer", "客户", "Customer"),
    ("entity_visit", "拜访", "Visit"),
    ("no_notifications", "暂无通知。", "No notifications."),
    ("mark_read", "标为已读", "Mark as read"),
    ("unread", "未读", "Unread"),
    (
        "notice_contact",
        "2 小时内未联系客户，已上报",
        "Not contacted within 2 hours; escalated",
    ),
    (
        "notice_handling",
        "24 小时内未处理完毕，已上报",
        "Not handled within 24 hours; escalated",
    ),
    (
        "notice_screening",
        "3 个工作日内未完成筛选",
        "Not screened within 3 working days",
    ),
    ("notice_follow_up", "今天应回访客户", "A follow-up is due today"),
    (
        "notice_pool_warning",
        "3 天后将退回公海，请尽快跟进",
        "Returns to the pool in 3 days unless followed up",
    ),
    (
        "notice_warranty_follow_up",
        "保修期内客户已满一个季度未售后跟进，请回访",
        "A customer under warranty is due its quarterly follow-up",
    ),
    (
        "deadline_warranty_follow_up",
        "保修期季度回访",
        "Quarterly warranty follow-up",
    ),
    (
        "notice_pool_return",
        "长期未跟进，已退回公海",
        "Not followed up; returned to the pool",
    ),
    ("claim", "领取", "Claim"),
    ("release", "退回公海", "Return to pool"),
    ("action_claim", "从公海领取", "Claimed from the pool"),
    ("action_release", "退回公海", "Returned to the pool"),
    (
        "action_return_to_pool",
        "未跟进，自动退回公海",
        "Not followed up; returned to the pool",
    ),
    ("action_touch", "已跟进", "Followed up"),
    ("no_follow_up", "长期未跟进", "Not followed up"),
    ("released", "负责人退回", "Returned by its owner"),
    ("public_pool", "公海", "Public pool"),
    ("pool_owner", "公海", "Pool"),
    ("pool_empty", "公海里暂无客户。", "The pool is empty."),
    (
        "pool_hint",
        "公海客户不显示联系电话，领取后可见。",
        "Pool customers show no phone until claimed.",
    ),
    ("my_customers", "我的客户", "My customers"),
    ("understood", "知道了", "Got it"),
    ("send_survey", "发送满意度调查", "Send the survey"),
    ("answer_survey", "记录调查结果", "Record the answers"),
    ("customer", "客户本人", "The customer"),
    ("share_survey_token", "满意度调查链接", "Survey link"),
    ("photos", "现场照片", "Photos"),
    ("photo_before", "维修前", "Before the repair"),
    ("photo_after", "维修后", "After the repair"),
    ("take_photo_before", "拍摄维修前照片", "Photo before the repair"),
    ("take_photo_after", "拍摄维修后照片", "Photo after the repair"),
    ("photo_waiting", "待上传", "Waiting to upload"),
    ("photo_drop", "删除并重拍", "Remove and retake"),
    (
        "share_hint",
        "复制链接发给客户；客户无需登录，仅可提交一次。",
        "Copy the link to the customer: no sign-in, one answer.",
    ),
    ("survey_title", "满意度调查", "Satisfaction survey"),
    (
        "survey_intro",
        "感谢您使用我们的服务，请为本次服务评分（5 分为非常满意）。",
        "Thank you for your time: please rate our service (5 is best).",
    ),
    ("survey_submit", "提交", "Submit"),
    ("survey_thanks", "感谢您的评价！", "Thank you for your answers!"),
    (
        "survey_gone",
        "该调查链接已失效或已提交过。",
        "This survey link has been used or is no longer valid.",
    ),
    ("record_before", "维修前确认", "Confirm the condition before"),
    ("condition_ok", "正常", "As it should be"),
    ("condition_fault", "异常", "Faulty"),
    ("sign_here", "请客户在框内签名", "Customer signs in the box"),
    ("clear_signature", "重签", "Clear"),
    ("fit_high", "高度匹配", "Close fit"),
    ("fit_medium", "一般匹配", "Some fit"),
    ("fit_low", "不太匹配", "Poor fit"),
    ("scale_large", "大型", "Large"),
    ("scale_medium", "中型", "Medium"),
    ("scale_small", "小型", "Small"),
    ("budget_confirmed", "预算已确认", "Confirmed"),
    ("budget_range", "有大致范围", "A rough range"),
    ("budget_unknown", "预算未知", "Unknown"),
    (
        "chain_clear",
        "决策人明确、已接触",
        "Decision maker known and reached",
    ),
    ("chain_partial", "部分了解", "Partly known"),
    ("chain_unknown", "决策人未明确", "Decision maker unknown"),
    ("proposal_score_lead", "线索评分", "Lead score"),
    ("proposal_score_customer", "分级评分", "Class score"),
    (
        "proposal_hint_customer",
        "填写员工人数、年销售额和销售趋势后，系统按规模、销售额和趋势建议客户分类。",
        "Enter staff, annual sales and their trend and a class is proposed from them.",
    ),
    ("trend_rising", "上升", "Rising"),
    ("trend_steady", "平稳", "Steady"),
    ("trend_falling", "下降", "Falling"),
    (
        "proposal_hint_lead",
        "选择行业匹配度、规模、预算和决策链后，系统按评分建议等级。",
        "Answer fit, size, budget and decision chain and a grade is proposed from the score.",
    ),
    ("add_line", "+ 添加一行", "+ Add a line"),
    ("remove_line", "删除", "Remove"),
    ("deadline_pool_return", "退回公海", "Returns to the pool"),
    ("merge", "合并", "Merge"),
    ("keep_apart", "不是同一家", "Not the same company"),
    ("action_merge", "合并重复客户", "Merged a duplicate"),
    ("action_merged", "已合并到另一客户", "Merged into another customer"),
    ("action_merge_moved", "随客户合并转到保留的客户", "Moved with a customer merge"),
    ("action_keep_apart", "标记为不是同一家", "Marked as a different company"),
    ("absorb", "被合并的客户", "Duplicate merged"),
    ("other", "另一客户", "The other customer"),
    ("look_alikes", "疑似重复客户", "Look-alike customers"),
    ("trade_show", "展会", "Trade show"),
    ("webinar", "线上研讨会", "Webinar"),
    ("referral", "转介绍", "Referral"),
    ("public_tender", "公开信息/招投标", "Public info / tender"),
    ("website", "网站", "Website"),
    ("source.other", "其他", "Other"),
    ("grade.A", "A 高意向", "A high intent"),
    ("grade.B", "B 中意向", "B medium intent"),
    ("grade.C", "C 低意向", "C low intent"),
    ("status.new", "待筛选", "New"),
    ("status.qualified", "有效线索", "Qualified"),
    ("status.converted", "已转化", "Converted"),
    ("status.disqualified", "已作废", "Dropped"),
    ("qualify", "筛选通过", "Qualify"),
    ("disqualify", "作废线索", "Drop lead"),
    ("convert", "转为客户（认定申请）", "Convert to a customer (application)"),
    ("deadline_screening", "线索筛选", "Screening"),
    ("records_count", "条", "records"),
    (
        "look_alikes_hint",
        "名称、电话或统一社会信用代码相同的客户。合并后保留的客户获得另一方的联系人，其拜访、工单、跟进和线索都归到保留的客户。",
        "Customers with the same name, phone or credit code. The one kept takes the other's contacts, and its visits, tickets, follow-ups and leads.",
    ),
    ("look_alikes_none", "没有疑似重复的客户。", "No look-alike customers."),
    ("look_alike_shared", "相同", "Same"),
    ("look_alike_keep", "保留此客户，合并另一个", "Keep this one, merge the other"),
    ("look_alike_note", "可能与其他客户重复", "May be the same as another customer"),
    ("look_alike_sent", "已提交，同步后生效。", "Sent; it takes effect as it syncs."),
    ("look_alike_works", "主管可合并或标记为不是同一家。", "A supervisor merges them or tells them apart."),
];

impl Locale {
    /// A word of `WORDS` (a command, a status), or the key itself.
    pub fn word(self, key: &str) -> &'static str {
        let zh = self == Self::ZhCn;
        WORDS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, zh_word, en_word)| if zh { *zh_word } else { *en_word })
            .unwrap_or("")
    }

    pub fn field_problem(self, problem: FieldProblem) -> String {
        match (self, problem) {
            (Self::ZhCn, FieldProblem::Required) => "必填".into(),
            (Self::En, FieldProblem::Required) => "Required".into(),
            (Self::ZhCn, FieldProblem::TooLong { max }) => format!("不能超过 {max} 个字"),
            (Self::En, FieldProblem::TooLong { max }) => format!("At most {max} characters"),
            (Self::ZhCn, FieldProblem::InvalidPhone) => {
                "请输入有效的电话号码（手机 11 位或座机带区号）".into()
            }
            (Self::En, FieldProblem::InvalidPhone) => {
                "Enter a valid phone number (11-digit mobile or landline with area code)".into()
            }
            (Self::ZhCn, FieldProblem::InvalidEmail) => "请输入有效的邮箱地址".into(),
            (Self::En, FieldProblem::InvalidEmail) => "Enter a valid email address".into(),
            (Self::ZhCn, FieldProblem::InvalidDate) => "日期格式不正确".into(),
            (Self::En, FieldProblem::InvalidDate) => "Not a valid date".into(),
            (Self::ZhCn, FieldProblem::InvalidChoice) => "请从列表中选择".into(),
            (Self::En, FieldProblem::InvalidChoice) => "Choose one of the options".into(),
            (Self::ZhCn, FieldProblem::WrongType) => "类型不正确".into(),
            (Self::En, FieldProblem::WrongType) => "Wrong type".into(),
            (Self::ZhCn, FieldProblem::Untrimmed) => "去掉前后的空格；不填请留空".into(),
            (Self::En, FieldProblem::Untrimmed) => {
                "Remove the spaces around it; leave it out if empty".into()
            }
            (Self::ZhCn, FieldProblem::PhoneOrEmail) => "电话和邮箱至少填一项".into(),
            (Self::En, FieldProblem::PhoneOrEmail) => "Enter a phone or an email".into(),
            (Self::ZhCn, FieldProblem::UnknownReference) => "找不到这条记录".into(),
            (Self::En, FieldProblem::UnknownReference) => "No such record".into(),
            (Self::ZhCn, FieldProblem::InFuture) => "不能晚于当前时间".into(),
            (Self::En, FieldProblem::InFuture) => "Cannot be in the future".into(),
            (Self::ZhCn, FieldProblem::InvalidMoney) => "请输入金额（元，最多两位小数）".into(),
            (Self::En, FieldProblem::InvalidMoney) => "Enter an amount in yuan (at most two decimals)".into(),
            (Self::ZhCn, FieldProblem::InvalidNumber) => "请输入整数".into(),
            (Self::En, FieldProblem::InvalidNumber) => "Enter a whole number".into(),
            (Self::ZhCn, FieldProblem::SetByCommand) => "只能通过流程操作更改".into(),
            (Self::En, FieldProblem::SetByCommand) => "Changes only through the process".into(),
            (Self::ZhCn, FieldProblem::OnePrimary) => "请指定一位（且仅一位）主要联系人".into(),
            (Self::En, FieldProblem::OnePrimary) => "Mark exactly one as the main one".into(),
            (Self::ZhCn, FieldProblem::InvalidImage) => "签名无效或过大，请重新签名".into(),
            (Self::En, FieldProblem::InvalidImage) => "Not a signature, or too large: sign again".into(),
            (Self::ZhCn, FieldProblem::DayOffAndWorking) => "同一天不能既是休息日又是工作日".into(),
            (Self::En, FieldProblem::DayOffAndWorking) => {
                "A day cannot be both a day off and a working day".into()
            }
        }
    }

    /// A span of time in words, to the minute: "1 天 3 小时", "2 小时 5 分".
    pub fn duration(self, span: chrono::Duration) -> String {
        let minutes = span.num_minutes().max(0);
        let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
        let zh = self == Self::ZhCn;
        let (d, h, m) = if zh {
            (" 天", " 小时", " 分")
        } else {
            (" d", " h", " min")
        };
        let mut parts = Vec::new();
        if days > 0 {
            parts.push(format!("{days}{d}"));
        }
        if hours > 0 {
            parts.push(format!("{hours}{h}"));
        }
        // Minutes matter under a day; "0 min" is said of the last minute.
        if days == 0 && (minutes > 0 || parts.is_empty()) {
            parts.push(format!("{minutes}{m}"));
        }
        parts.join(" ")
    }

    /// A refusal that names who holds the record now.
    pub fn refusal_by(self, code: &str, by: &str) -> String {
        match (code, self) {
            ("pool_claimed", Self::ZhCn) => format!("该客户已被 {by} 领取。"),
            ("pool_claimed", Self::En) => format!("{by} has already claimed this customer."),
            _ => self.refusal(code),
        }
    }

    /// Why a rule of the process refused a command, in words. An unknown
    /// code (from a newer server) still says that it was refused.
    pub fn refusal(self, code: &str) -> String {
        let zh = self == Self::ZhCn;
        if code == "photo_too_large" {
            let mb = crate::validate::MAX_PHOTO / 1_000_000;
            return if zh {
                format!("照片超过 {mb} MB，无法上传，请重新拍摄。")
            } else {
                format!("The photo is over {mb} MB and cannot be uploaded: take it again.")
            };
        }
        // The numbers (a quota, a window) are the company's settings, kept
        // by the admin; the words say which rule it was.
        let words = match code {
            "pool_quota_reached" if zh => "今天领取的公海客户已达到每日上限。",
            "pool_quota_reached" => "You have reached today's limit of pool customers.",
            "pool_cooldown" if zh => "该客户是从您名下退回公海的，冷却期内不能再领取。",
            "pool_cooldown" => {
                "This customer left your book for the pool; you may not claim it back within the cooldown."
            }
            "reopen_window_passed" if zh => "工单关闭已超过可重新打开的期限，请新建工单。",
            "reopen_window_passed" => "Closed too long ago to reopen: open a new ticket instead.",
            "single_record" if zh => "系统设置只有一份，只能修改，不能另建或删除。",
            "single_record" => {
                "There is one settings record: change it, it cannot be added again or deleted."
            }
            "repair_before_not_confirmed" if zh => "请先与客户确认并记录维修前的产品状况。",
            "repair_before_not_confirmed" => {
                "First check and record the product's condition with the customer."
            }
            "repair_before_confirmed" if zh => "维修前状况已与客户确认。",
            "repair_before_confirmed" => "The condition before the repair is confirmed.",
            "repair_not_on_site" if zh => "只有已派工的维修工单需要维修前确认。",
            "repair_not_on_site" => "Only a dispatched repair has its condition confirmed before.",
            "lead_already_screened" if zh => "该线索已筛选过。",
            "lead_already_screened" => "This lead has already been screened.",
            "lead_already_closed" if zh => "该线索已转化或已作废。",
            "lead_already_closed" => "This lead is already converted or dropped.",
            "ticket_closed" if zh => "工单已关闭，请先重新打开。",
            "ticket_closed" => "The ticket is closed; reopen it first.",
            "ticket_wrong_status" if zh => "工单当前状态不允许此操作。",
            "ticket_wrong_status" => "The ticket's status does not allow this.",
            "dispatch_by_service_desk" if zh => "只有客服专员或客服主管可以派工。",
            "dispatch_by_service_desk" => "Only the service desk dispatches tickets.",
            "dispatch_not_technician" if zh => "所选人员不是在职的维修技师。",
            "dispatch_not_technician" => "The person chosen is not an active technician.",
            "approval_own_request" if zh => "不能审批自己提交的申请。",
            "approval_own_request" => "Nobody approves their own request.",
            "approval_not_your_step" if zh => "当前审批环节不由您审批。",
            "approval_not_your_step" => "The current step is not yours to approve.",
            "approval_not_pending" if zh => "该申请不在审批中。",
            "approval_not_pending" => "This request is not waiting for approval.",
            "approval_already_submitted" if zh => "该申请已提交，正在审批。",
            "approval_already_submitted" => "This request is already submitted.",
            "customer_already_recognised" if zh => "该客户已认定，已有客户编号。",
            "customer_already_recognised" => "This customer is already recognised and has a code.",
            "customer_under_review" if zh => "客户认定申请正在审批中，审批结束前不能修改。",
            "customer_under_review" => {
                "The application is under review; it cannot change until it is decided."
            }
            "customer_not_owner" if zh => "只有申请人可以提交。",
            "customer_not_owner" => "Only the applicant submits.",
            "pool_claimed" if zh => "该客户已被同事领取。",
            "pool_claimed" => "A teammate has already claimed this customer.",
            "photo_not_image" if zh => "只能上传 JPEG、PNG 或 WebP 照片。",
            "photo_not_image" => "Only JPEG, PNG or WebP photos can be uploaded.",
            "photo_damaged" if zh => "照片上传后校验不符，已丢弃，请重新上传。",
            "photo_damaged" => {
                "The uploaded photo did not match its checksum and was dropped: upload it again."
            }
            "survey_used" if zh => "该调查已经提交过。",
            "survey_used" => "This survey has already been answered.",
            "survey_by_service_desk" if zh => "只有客服专员或客服主管可以发送调查。",
            "survey_by_service_desk" => "Only the service desk sends surveys.",
            "survey_not_served" if zh => "工单解决后才能调查满意度。",
            "survey_not_served" => "A survey follows a resolved ticket.",
            "survey_link_invalid" if zh => "调查链接无效。",
            "survey_link_invalid" => "The survey link is not valid.",
            "pool_not_owner" if zh => "只有负责人可以把客户退回公海。",
            "pool_not_owner" => "Only the customer's owner returns it to the pool.",
            "pool_not_in_pool" if zh => "该客户不在公海中。",
            "pool_not_in_pool" => "This customer is not in the public pool.",
            "pool_not_recognised" if zh => "只有已认定的客户可以退回公海。",
            "pool_not_recognised" => "Only a recognised customer returns to the pool.",
            "pool_no_team" if zh => "您不属于任何销售组，没有公海。",
            "pool_no_team" => "You belong to no sales team, so you have no pool.",
            "merge_not_supervisor" if zh => "只有销售主管或销售经理可以合并客户。",
            "merge_not_supervisor" => "Only a sales supervisor or manager merges customers.",
            "merge_unknown_customer" if zh => "找不到要合并的另一客户。",
            "merge_unknown_customer" => "The other customer cannot be found.",
            "merge_keep_recognised" if zh => "另一客户已认定、有客户编号：请保留它，把这个合并进去。",
            "merge_keep_recognised" => {
                "The other customer is recognised and has a code: keep it and merge this one into it."
            }
            "merge_too_many_contacts" if zh => "合并后联系人超过 20 位，请先删减。",
            "merge_too_many_contacts" => "Merged, the contacts would exceed 20: remove some first.",
            "merge_kept_apart_full" if zh => "已确认不重复的客户过多。",
            "merge_kept_apart_full" => "Too many customers are told apart from this one.",
            "unknown_command" if zh => "不支持的操作。",
            "unknown_command" => "This action is not supported.",
            _ if zh => "操作被拒绝。",
            _ => "The action was refused.",
        };
        words.to_owned()
    }

    pub fn error(self, error: &AppError) -> String {
        let zh = self == Self::ZhCn;
        match error {
            AppError::Unauthenticated if zh => "请先登录。".into(),
            AppError::Unauthenticated => "Please sign in first.".into(),
            AppError::Forbidden if zh => "您没有权限执行此操作。".into(),
            AppError::Forbidden => "You are not allowed to do this.".into(),
            AppError::NotFound if zh => "找不到该记录。".into(),
            AppError::NotFound => "Record not found.".into(),
            AppError::Invalid { .. } => self.texts().fix_fields.into(),
            AppError::Refused { code, by: Some(by) } => self.refusal_by(code, by),
            AppError::Refused { code, by: None } => self.refusal(code),
            AppError::BadRequest { .. } if zh => "请求格式有误。".into(),
            AppError::BadRequest { .. } => "The request was malformed.".into(),
            AppError::CursorAhead { .. } | AppError::EpochChanged { .. } if zh => {
                "服务器已从备份恢复，正在重新同步并补发本机的更改。".into()
            }
            AppError::CursorAhead { .. } | AppError::EpochChanged { .. } => {
                "The server was restored from a backup; syncing afresh and sending this device's changes again.".into()
            }
            AppError::TooLarge { limit } if zh => format!("一次最多提交 {limit} 条。"),
            AppError::TooLarge { limit } => format!("At most {limit} items at a time."),
            AppError::BadCredentials if zh => "用户名或密码错误。".into(),
            AppError::BadCredentials => "Wrong username or password.".into(),
            AppError::RateLimited { retry_after_secs } if zh => {
                format!(
                    "登录失败次数过多，请 {} 分钟后再试。",
                    retry_after_secs.div_ceil(60)
                )
            }
            AppError::RateLimited { retry_after_secs } => format!(
                "Too many failed sign-ins. Try again in {} min.",
                retry_after_secs.div_ceil(60)
            ),
            AppError::Internal if zh => "服务器出错，请稍后再试。".into(),
            AppError::Internal => "The server failed; please try again later.".into(),
            AppError::Network if zh => "无法连接服务器，请检查网络。".into(),
            AppError::Network => "Cannot reach the server; check the network.".into(),
        }
    }

    pub fn role(self, role: Role) -> &'static str {
        let zh = self == Self::ZhCn;
        match role {
            Role::Rep => {
                if zh {
                    "销售代表"
                } else {
                    "Sales rep"
                }
            }
            Role::Supervisor => {
                if zh {
                    "销售主管"
                } else {
                    "Sales supervisor"
                }
            }
            Role::SalesManager => {
                if zh {
                    "销售经理"
                } else {
                    "Sales manager"
                }
            }
            Role::ServiceAgent => {
                if zh {
                    "客服专员"
                } else {
                    "Service agent"
                }
            }
            Role::ServiceSupervisor => {
                if zh {
                    "客服主管"
                } else {
                    "Service supervisor"
                }
            }
            Role::Technician => {
                if zh {
                    "技术员"
                } else {
                    "Technician"
                }
            }
            Role::Finance => {
                if zh {
                    "财务"
                } else {
                    "Finance"
                }
            }
            Role::Legal => {
                if zh {
                    "法务"
                } else {
                    "Legal"
                }
            }
            Role::GeneralManager => {
                if zh {
                    "总经理"
                } else {
                    "General manager"
                }
            }
            Role::Admin => {
                if zh {
                    "管理员"
                } else {
                    "Administrator"
                }
            }
        }
    }

    /// The "all" choice of a list's filter on the field labelled `label`.
    pub fn any_value_of(self, label: &str) -> String {
        match self {
            Self::ZhCn => format!("{label}：全部"),
            Self::En => format!("{label}: all"),
        }
    }

    /// The words of a choice of `field`: its own (`source.other`, where
    /// the value means something else elsewhere), else the value's.
    pub fn choice(self, field: &str, value: &str) -> Option<&'static str> {
        let own = format!("{field}.{value}");
        WORDS
            .iter()
            .find(|(key, _, _)| *key == own)
            .map(|(_, zh_word, en_word)| if self == Self::ZhCn { *zh_word } else { *en_word })
            .or_else(|| self.option(value))
    }

    /// Whose records a list holds: "我的线索", "本团队客户", "All tickets".
    pub fn scope_of(self, scope: crate::policy::Scope, plural: Words) -> String {
        use crate::policy::Scope;
        let plural = self.say(plural);
        match (self, scope) {
            (Self::ZhCn, Scope::Own(_)) => format!("我的{plural}"),
            (Self::ZhCn, Scope::Team(_)) => format!("本团队{plural}"),
            (Self::ZhCn, Scope::All) => format!("全部{plural}"),
            (Self::En, Scope::Own(_)) => format!("My {}", plural.to_lowercase()),
            (Self::En, Scope::Team(_)) => format!("My team's {}", plural.to_lowercase()),
            (Self::En, Scope::All) => format!("All {}", plural.to_lowercase()),
        }
    }

    /// Labels of choice values of visits and tickets.
    pub fn option(self, value: &str) -> Option<&'static str> {
        let zh = self == Self::ZhCn;
        if let Some((_, zh_word, en_word)) = WORDS.iter().find(|(key, _, _)| *key == value) {
            return Some(if zh { zh_word } else { en_word });
        }
        Some(match value {
            "yes" => {
                if zh {
                    "是"
                } else {
                    "Yes"
                }
            }
            "no" => {
                if zh {
                    "否"
                } else {
                    "No"
                }
            }
            "hotline" => {
                if zh {
                    "400 热线"
                } else {
                    "400 hotline"
                }
            }
            "phone" => {
                if zh {
                    "电话"
                } else {
                    "Phone"
                }
            }
            "email" => {
                if zh {
                    "邮件"
                } else {
                    "Email"
                }
            }
            "web" => {
                if zh {
                    "网站"
                } else {
                    "Web"
                }
            }
            "visit" => {
                if zh {
                    "上门拜访"
                } else {
                    "Visit"
                }
            }
            "complaint" => {
                if zh {
                    "投诉"
                } else {
                    "Complaint"
                }
            }
            "repair" => {
                if zh {
                    "维修"
                } else {
                    "Repair"
                }
            }
            "consultation" => {
                if zh {
                    "咨询"
                } else {
                    "Consultation"
                }
            }
            "training" => {
                if zh {
                    "培训"
                } else {
                    "Training"
                }
            }
            "return_exchange" => {
                if zh {
                    "不合格品退换"
                } else {
                    "Return or exchange"
                }
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_comes_from_its_cookie_and_defaults_to_chinese() {
        assert_eq!(Locale::from_cookie_header("a=1; fb_lang=en"), Locale::En);
        assert_eq!(Locale::from_cookie_header("fb_lang=xx"), Locale::ZhCn);
        assert_eq!(Locale::from_cookie_header(""), Locale::ZhCn);
    }

    #[test]
    fn durations_read_to_the_minute_and_days_drop_the_minutes() {
        let zh = Locale::ZhCn;
        assert_eq!(zh.duration(chrono::Duration::seconds(59)), "0 分");
        assert_eq!(zh.duration(chrono::Duration::minutes(125)), "2 小时 5 分");
        assert_eq!(zh.duration(chrono::Duration::minutes(60)), "1 小时");
        assert_eq!(zh.duration(chrono::Duration::minutes(1440 + 185)), "1 天 3 小时");
        assert_eq!(Locale::En.duration(chrono::Duration::minutes(5)), "5 min");
        assert_eq!(zh.duration(chrono::Duration::minutes(-3)), "0 分");
    }

    #[test]
    fn every_notice_kind_and_deadline_has_words_in_both_languages() {
        for key in [
            "notice_contact",
            "notice_handling",
            "notice_screening",
            "notice_follow_up",
            "notice_pool_warning",
            "notice_pool_return",
            "notice_warranty_follow_up",
            "notice_survey",
            "deadline_warranty_follow_up",
            "deadline_contact",
            "deadline_handling",
            "deadline_pool_return",
        ] {
            for locale in [Locale::ZhCn, Locale::En] {
                assert!(!locale.word(key).is_empty(), "{key} {locale:?}");
            }
        }
    }
}
