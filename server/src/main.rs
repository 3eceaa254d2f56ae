use app::ssr::{AppState, Db, Settings};
use clap::Parser;
use fieldbook::config::{Cli, Command, Common, LogFormat, ProjectionsCommand, ServeArgs, UserCommand};
use fieldbook::{accounts, demo};
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    limit_malloc_arenas();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("fieldbook: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(start())
}

/// glibc's malloc gives each thread that contends for memory its own arena
/// (up to 8 per core) and keeps freed memory in each: a server whose batches
/// move through every worker thread then holds far more than it uses (75
/// MiB against 60 with two arenas, with 10,000 records synced; see
/// docs/benchmarks.md). Must run before any thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; no thread exists yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        // A fixed threshold: blocks of 512 KiB and more (request bodies,
        // argon2's 19 MiB) are mapped and unmapped on their own. Left
        // dynamic, one sign-in raises it to 19 MiB and the heap then keeps
        // up to twice that after it is freed.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 512 * 1024);
    }
}

async fn start() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.common);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("fieldbook: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    if let Some(Command::Shell { site_root }) = &cli.command {
        print!(
            "{}",
            fieldbook::http::offline_shell_html(site_options(site_root, None))
        );
        return Ok(());
    }
    if let Some(Command::Restore { path }) = &cli.command {
        let started = std::time::Instant::now();
        let epoch = fieldbook::backup::restore(&cli.common.database_url, path).await?;
        println!(
            "Restored {} in {:.1} s; the database's new epoch is {epoch}.",
            path.display(),
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let db = Db::connect(&cli.common.database_url)
        .await
        .map_err(|e| e.to_string())?;
    match cli.command.unwrap_or(Command::Serve(ServeArgs::parse_from_env())) {
        Command::Serve(args) => {
            let _held = fieldbook::backup::hold_while_serving(&cli.common.database_url)?;
            serve(db, args).await
        }
        Command::Demo => match demo::load(&db).await.map_err(|e| e.to_string())? {
            Some(summary) => {
                println!(
                    "Loaded the demo: {} users, {} leads.",
                    summary.users, summary.leads
                );
                print!("{}", demo::logins_text());
                Ok(())
            }
            None => Err("the database already has users; the demo loads only into an empty one".into()),
        },
        Command::Shell { .. } | Command::Restore { .. } => unreachable!("answered before connecting"),
        Command::Backup { path } => {
            let started = std::time::Instant::now();
            fieldbook::backup::backup(&db, &cli.common.database_url, &path).await?;
            println!(
                "Backed up to {} in {:.1} s.",
                path.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Projections(ProjectionsCommand::Rebuild) => {
            let started = std::time::Instant::now();
            let rows = app::sync::store::rebuild_projections(&db, app::aggregates::ENTITIES)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "Rebuilt the projections: {rows} rows in {:.1} s.",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::User(UserCommand::Add {
            username,
            name,
            role,
            team,
            password,
        }) => {
            let role = accounts::parse_role(&role).map_err(|e| e.to_string())?;
            let team_id = match team {
                Some(team) => Some(
                    accounts::ensure_team(&db, &team, None)
                        .await
                        .map_err(|e| e.to_string())?,
                ),
                None => None,
            };
            let new = accounts::NewUser {
                username: &username,
                display_name: &name,
                role,
                team_id,
                region_id: None,
                password: &password,
            };
            let id = accounts::add_user(&db, new).await.map_err(|e| e.to_string())?;
            println!("Added {username} ({}) with id {id}.", role.as_str());
            Ok(())
        }
    }
}

async fn serve(db: Db, args: ServeArgs) -> Result<(), String> {
    // A projection a newer version added starts empty beside old records.
    for table in app::sync::store::fill_new_projections(&db, app::aggregates::ENTITIES)
        .await
        .map_err(|e| e.to_string())?
    {
        tracing::info!(table, "filled a new projection from the records");
    }
    if args.demo {
        if let Some(summary) = demo::load(&db).await.map_err(|e| e.to_string())? {
            tracing::info!(users = summary.users, leads = summary.leads, "demo loaded");
        }
        print!("{}", demo::logins_text());
    }
    let public_origin = args.public_origin()?;
    let leptos_options = site_options(&args.site_root, Some(args.addr));
    let state = AppState {
        db,
        settings: Arc::new(Settings {
            default_time_zone: args.time_zone,
            secure_cookies: args.secure_cookies,
            public_origin: public_origin.clone(),
            behind_proxy: args.behind_proxy,
        }),
        leptos_options,
    };
    tokio::spawn(fieldbook::clock_job(
        state.db.clone(),
        app::aggregates::ENTITIES,
        args.time_zone,
        std::time::Duration::from_secs(args.clock_interval.max(1)),
    ));
    let app = fieldbook::router(state, args.body_limit);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    println!("Fieldbook listening on {} ({public_origin})", args.addr);
    // With each connection's address, which the sign-in throttle counts.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(fieldbook::http::shutdown_signal())
    .await
    .map_err(|e| format!("server failed: {e}"))
}

/// Where the built site is and what its files are called. A release build
/// names its wasm, JS and CSS by content hash and writes the hashes to
/// `hash.txt` beside this binary; without that file the plain names serve.
fn site_options(site_root: &str, addr: Option<std::net::SocketAddr>) -> leptos::config::LeptosOptions {
    let hash_file_exists = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt").exists()))
        .unwrap_or(false);
    let builder = leptos::config::LeptosOptions::builder()
        .output_name("fieldbook")
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .hash_files(hash_file_exists);
    match addr {
        Some(addr) => builder.site_addr(addr).build(),
        None => builder.build(),
    }
}

fn init_tracing(common: &Common) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&common.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match common.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
