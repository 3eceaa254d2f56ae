//! The `fieldbook` binary as an operator meets it: help, subcommands, clear
//! start-up errors, health and graceful shutdown.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn fieldbook() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fieldbook"));
    command.env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    command
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}/data/fieldbook.db", dir.path().display())
}

#[test]
fn help_lists_every_setting() {
    let output = fieldbook().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--database-url",
        "--addr",
        "--log-level",
        "--time-zone",
        "--demo",
        "DATABASE_URL",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn an_unopenable_database_is_one_clear_line_and_a_failing_exit() {
    let output = fieldbook()
        .args(["--database-url", "postgres://nobody@127.0.0.1:1/none", "demo"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("fieldbook: cannot open database postgres://nobody@127.0.0.1:1/none"),
        "{stderr}"
    );

    let output = fieldbook()
        .args(["--database-url", "mysql://x/y", "demo"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("unsupported database URL"));
}

#[test]
fn user_add_creates_a_user_once_and_refuses_bad_roles() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let add = |role: &str| {
        fieldbook()
            .args([
                "--database-url",
                &url,
                "user",
                "add",
                "--username",
                "li",
                "--name",
                "李雷",
            ])
            .args(["--role", role, "--team", "华北组", "--password", "long enough"])
            .output()
            .unwrap()
    };
    let first = add("rep");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let again = add("rep");
    assert!(String::from_utf8(again.stderr)
        .unwrap()
        .contains("username \"li\" is taken"));
    let bad = add("boss");
    assert!(!bad.status.success());
    assert!(String::from_utf8(bad.stderr)
        .unwrap()
        .contains("unknown role \"boss\""));
}

#[test]
fn demo_loads_the_team_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let output = fieldbook()
        .args(["--database-url", &url, "demo"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("18 users"), "{stdout}");
    for login in [
        "gm", "manager", "sup1", "sup2", "rep6", "agent2", "svc_sup", "tech2", "finance", "legal", "admin",
    ] {
        assert!(stdout.contains(login), "{login} missing from {stdout}");
    }
    let again = fieldbook()
        .args(["--database-url", &url, "demo"])
        .output()
        .unwrap();
    assert!(!again.status.success());
}

#[test]
fn the_server_reports_health_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = fieldbook()
        .args([
            "--database-url",
            &sqlite_url(&dir),
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let healthy = loop {
        let answer = std::process::Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &format!("http://127.0.0.1:{port}/healthz"),
            ])
            .output()
            .unwrap();
        if answer.stdout == b"200" {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    let status = server.wait().unwrap();
    assert!(healthy, "the server never answered /healthz with 200");
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    assert!(
        dir.path().join("data/fieldbook.db").exists(),
        "the SQLite file and its folder are created"
    );
}
