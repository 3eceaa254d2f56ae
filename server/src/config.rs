//! Command line and environment: `fieldbook --help` lists everything.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;

#[derive(Debug, Parser)]
#[command(
    name = "fieldbook",
    version,
    about = "Fieldbook: sales-service process system (销售服务流程管理系统)"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Database: `sqlite://path` (the embedded default) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/fieldbook.db",
        global = true
    )]
    pub database_url: String,
    /// Log filter, e.g. `info` or `fieldbook=debug,tower_http=info`.
    #[arg(long, env = "RUST_LOG", default_value = "info", global = true)]
    pub log_level: String,
    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, env = "FIELDBOOK_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the app (the default when no command is given).
    Serve(ServeArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Load the demo team and a year of its records (only into an empty database).
    Demo,
    /// The typed tables kept beside the records.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Write a consistent copy of the database to PATH while the server
    /// keeps serving (SQLite: `VACUUM INTO`; PostgreSQL: `pg_dump`).
    Backup {
        /// The file to write; it must not exist yet.
        path: std::path::PathBuf,
    },
    /// Put the backup at PATH back, with every server stopped, under a new
    /// epoch: devices that synced since send their changes again.
    Restore {
        /// A file written by `fieldbook backup`.
        path: std::path::PathBuf,
    },
    /// Print the offline shell: the data-free page the service worker keeps
    /// for every route (the site build writes it to `<site root>/shell.html`).
    Shell {
        /// Folder with the built site.
        #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
        site_root: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FIELDBOOK_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Zone for users who have not chosen one (IANA name).
    #[arg(long, env = "FIELDBOOK_TIME_ZONE", default_value = "Asia/Shanghai", value_parser = parse_time_zone)]
    pub time_zone: chrono_tz::Tz,
    /// Folder with the built site (wasm, JS, CSS), as `cargo leptos build` writes it.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
    /// Load the demo team on start when the database has no users yet.
    #[arg(long, env = "FIELDBOOK_DEMO", action = clap::ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub demo: bool,
    /// Mark cookies `Secure` (serve behind HTTPS).
    #[arg(long, env = "FIELDBOOK_SECURE_COOKIES", action = clap::ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub secure_cookies: bool,
    /// Largest accepted request body, in bytes (larger ones get 413).
    #[arg(long, env = "FIELDBOOK_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
    /// Seconds between runs of the clock job, which raises deadlines that
    /// have passed (escalations, overdue screenings). Every server may run
    /// it: each clock is raised once.
    #[arg(long, env = "FIELDBOOK_CLOCK_INTERVAL", default_value_t = 30)]
    pub clock_interval: u64,
    /// The URL people open (`https://crm.example.cn`); the server answers
    /// only requests addressed to it. Defaults to `http://` and `--addr`,
    /// which must then be a specific address, not 0.0.0.0.
    #[arg(long, env = "FIELDBOOK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Served behind a reverse proxy: take a client's address (which the
    /// sign-in throttle counts) from the last `X-Forwarded-For` entry.
    #[arg(long, env = "FIELDBOOK_BEHIND_PROXY", action = clap::ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub behind_proxy: bool,
}

impl ServeArgs {
    /// The origin this server answers to: `--public-url` reduced to its
    /// scheme and host (lower case), or `http://` and the bind address.
    pub fn public_origin(&self) -> Result<String, String> {
        let Some(url) = &self.public_url else {
            if self.addr.ip().is_unspecified() {
                return Err(format!(
                    "listening on {} answers any address: say which one people open with --public-url",
                    self.addr
                ));
            }
            return Ok(format!("http://{}", self.addr));
        };
        let uri: http::Uri = url
            .parse()
            .map_err(|e| format!("--public-url {url:?} is not a URL: {e}"))?;
        match (uri.scheme_str(), uri.authority(), uri.path()) {
            (Some(scheme @ ("http" | "https")), Some(host), "" | "/") if uri.query().is_none() => {
                Ok(format!("{scheme}://{host}").to_ascii_lowercase())
            }
            _ => Err(format!(
                "--public-url {url:?} must be http:// or https:// and a host, with no path"
            )),
        }
    }
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self::parse_from_env()
    }
}

impl ServeArgs {
    /// The serve settings from the environment and defaults alone.
    pub fn parse_from_env() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Only::parse_from(["fieldbook"]).serve
    }
}

#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Rebuild every projection from the records (the same rows the writes
    /// keep; for a new projection, or after restoring records by hand).
    Rebuild,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is read from `--password` or FIELDBOOK_PASSWORD.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// One of: rep, supervisor, sales_manager, service_agent, service_supervisor,
        /// technician, finance, legal, general_manager, admin.
        #[arg(long)]
        role: String,
        /// Team name (created if it does not exist).
        #[arg(long)]
        team: Option<String>,
        #[arg(long, env = "FIELDBOOK_PASSWORD")]
        password: String,
    },
}

/// An IANA zone among those the build carries (China's and UTC:
/// `.cargo/config.toml`).
fn parse_time_zone(name: &str) -> Result<chrono_tz::Tz, String> {
    name.parse().map_err(|_| {
        format!("unknown time zone {name:?} (this build knows China's zones and UTC, such as Asia/Shanghai)")
    })
}

#[cfg(test)]
mod tests {
    use super::parse_time_zone;

    #[test]
    fn chinas_zones_are_known_and_others_are_refused_in_words() {
        for zone in [
            "Asia/Shanghai",
            "Asia/Urumqi",
            "Asia/Hong_Kong",
            "Asia/Taipei",
            "UTC",
        ] {
            assert_eq!(parse_time_zone(zone).map(|tz| tz.name()), Ok(zone), "{zone}");
        }
        let refused = parse_time_zone("Europe/Berlin").unwrap_err();
        assert!(refused.contains("Asia/Shanghai"), "{refused}");
    }
}
