//! The operational side: unit files systemd accepts, socket activation through Debian's real
//! launcher with readiness notifications, the `service` and `config` commands, and a daemon
//! that refuses a bad configuration.

mod common;

use common::*;
use headroom_protocol::*;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::time::Duration;

/// An environment where `systemctl --user` cannot reach a user manager, so tests never touch
/// the real session's units.
fn isolated(cmd: &mut Command, home: &std::path::Path) {
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_RUNTIME_DIR", home.join("runtime"))
        .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
        .env_remove("HEADROOM_CONFIG")
        .env_remove("HEADROOM_SOCKET");
}

#[test]
fn systemd_accepts_both_units() {
    let dir = tempfile::tempdir().unwrap();
    let units = dir.path().join("units");
    let runtime = dir.path().join("runtime");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::write(units.join("headroomd.socket"), include_str!("../../systemd/headroomd.socket")).unwrap();
    let daemon = std::path::Path::new(env!("CARGO_BIN_EXE_headroomd"));
    for http in [false, true] {
        let unit = headroom_daemon::service::service_unit(daemon, http);
        let families = unit.lines().find(|l| l.starts_with("RestrictAddressFamilies=")).unwrap();
        assert_eq!(families.contains("AF_INET "), http, "{families}");
        assert_eq!(families.ends_with("AF_INET6"), http, "{families}");
        assert!(!unit.contains("Documentation="), "no link to a page that does not exist");
        std::fs::write(units.join("headroomd.service"), unit).unwrap();
        let out = Command::new("systemd-analyze")
            .args(["verify", "--user"])
            .arg(units.join("headroomd.socket"))
            .arg(units.join("headroomd.service"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .output()
            .expect("systemd-analyze is installed (Debian package systemd)");
        assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn socket_activation_starts_on_first_connection_uses_the_passed_socket_and_notifies() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("activate.sock");
    let notify_path = dir.path().join("notify");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut launcher = Command::new("systemd-socket-activate");
    launcher
        .arg("-l")
        .arg(&socket)
        .arg(format!("--setenv=NOTIFY_SOCKET={}", notify_path.display()))
        .arg(format!("--setenv=XDG_STATE_HOME={}", dir.path().join("state").display()))
        .arg(format!("--setenv=HEADROOM_SOCKET={}", dir.path().join("unused.sock").display()))
        .arg(env!("CARGO_BIN_EXE_headroomd"));
    let mut child = launcher.spawn().expect("systemd-socket-activate is installed (Debian package systemd)");
    for _ in 0..200 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let inode = std::fs::metadata(&socket).unwrap().ino();
    let mut buf = [0u8; 512];
    notify.set_nonblocking(true).unwrap();
    assert!(notify.recv(&mut buf).is_err(), "nothing runs before the first connection");
    notify.set_nonblocking(false).unwrap();

    let mut s = connect(&socket);
    let hello = call(&mut s, 1, Op::Hello(Hello { protocol_version: PROTOCOL_VERSION, client: "test".into() }));
    assert!(matches!(hello.body, ReplyBody::Hello(_)), "{hello:?}");
    assert_eq!(call(&mut s, 2, Op::Ping).body, ReplyBody::Pong);
    let n = notify.recv(&mut buf).unwrap();
    let ready = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(ready.starts_with("READY=1\n") && ready.contains("the socket systemd passed"), "{ready}");
    assert_eq!(std::fs::metadata(&socket).unwrap().ino(), inode, "the daemon used the passed socket, not a new one");
    assert!(!dir.path().join("unused.sock").exists(), "the daemon bound no socket of its own");

    // The launcher execs the daemon in its own process: SIGTERM drains and exits 0.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut saw_stopping = false;
    notify.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    while let Ok(n) = notify.recv(&mut buf) {
        saw_stopping |= String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1");
        if saw_stopping {
            break;
        }
    }
    assert!(saw_stopping, "STOPPING=1 was sent");
}

#[test]
fn service_install_is_idempotent_and_explains_the_fallback_without_systemd() {
    let home = tempfile::tempdir().unwrap();
    let headroom = env!("CARGO_BIN_EXE_headroom");
    let run = |action: &str| {
        let mut cmd = Command::new(headroom);
        cmd.args(["service", action]);
        isolated(&mut cmd, home.path());
        let out = cmd.output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
    };
    let units = home.path().join("config/systemd/user");
    for _ in 0..2 {
        let (ok, out) = run("install");
        assert!(ok, "{out}");
        assert!(out.contains(&format!("wrote {}", units.join("headroomd.service").display())), "{out}");
        assert!(out.contains("systemd is not running for this user") && out.contains("nohup headroomd"), "{out}");
    }
    let service = std::fs::read_to_string(units.join("headroomd.service")).unwrap();
    // The unit names the binary by its real path (a symlinked target directory resolves).
    let daemon = std::fs::canonicalize(env!("CARGO_BIN_EXE_headroomd")).unwrap();
    assert!(service.contains(&format!("ExecStart={}", daemon.display())), "{service}");
    assert_eq!(std::fs::read_to_string(units.join("headroomd.socket")).unwrap(), include_str!("../../systemd/headroomd.socket"));
    assert!(service.contains("RestrictAddressFamilies=AF_UNIX\n"), "no network without the HTTP front: {service}");
    // With the front on in config.toml, installing again lets the daemon use TCP.
    std::fs::create_dir_all(home.path().join("config/headroom")).unwrap();
    std::fs::write(home.path().join("config/headroom/config.toml"), "http = true\n").unwrap();
    let (ok, out) = run("install");
    assert!(ok, "{out}");
    let service = std::fs::read_to_string(units.join("headroomd.service")).unwrap();
    assert!(service.contains("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n"), "{service}");
    // So does a shared store reached over TCP; one on a Unix socket needs no network.
    for (store, network) in [("redis://10.0.0.5:6379/0", true), ("unix:///run/redis/redis.sock", false)] {
        std::fs::write(home.path().join("config/headroom/config.toml"), format!("store = {store:?}\n")).unwrap();
        let (ok, out) = run("install");
        assert!(ok, "{out}");
        let service = std::fs::read_to_string(units.join("headroomd.service")).unwrap();
        assert_eq!(service.contains("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n"), network, "{store}: {service}");
    }
    let (ok, out) = run("status");
    assert!(ok && out.contains("headroomd.socket: installed at"), "{out}");
    let (ok, out) = run("uninstall");
    assert!(ok && out.contains("removed"), "{out}");
    assert!(!units.join("headroomd.service").exists() && !units.join("headroomd.socket").exists());
    let (ok, out) = run("uninstall");
    assert!(ok && out.contains("was not installed"), "{out}");
}

#[test]
fn config_show_names_each_source_and_a_bad_config_stops_the_daemon() {
    let home = tempfile::tempdir().unwrap();
    let config_dir = home.path().join("config/headroom");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(config_dir.join("config.toml"), "ccr_expiry_days = 9\n").unwrap();
    let mut show = Command::new(env!("CARGO_BIN_EXE_headroom"));
    show.args(["config", "show"]);
    isolated(&mut show, home.path());
    show.env("HEADROOM_MAX_FRAME", "4096");
    let out = show.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(&format!("ccr_expiry_days = 9  # {}:1", config_dir.join("config.toml").display())), "{text}");
    assert!(text.contains("max_frame = 4096  # environment HEADROOM_MAX_FRAME"), "{text}");
    assert!(text.contains("drain_timeout_secs = 30  # default"), "{text}");

    std::fs::write(config_dir.join("config.toml"), "ccr_expiry_days = 9\nmax_frames = 1\n").unwrap();
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_headroomd"));
    isolated(&mut daemon, home.path());
    let out = daemon.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("refusing to start") && stderr.contains("config.toml:2: unknown key `max_frames`; valid keys:"), "{stderr}");
}

#[test]
fn doctor_reports_each_part_with_a_verdict() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let run_with = |socket: &std::path::Path, models: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_headroom"));
        cmd.arg("doctor");
        isolated(&mut cmd, home.dir.path());
        cmd.env("HEADROOM_SOCKET", socket).env("HEADROOM_STATE_DIR", &daemon.state);
        if let Some(dir) = models {
            cmd.env("HEADROOM_MODELS_DIR", dir);
        }
        let out = cmd.output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string())
    };
    let run = |socket: &std::path::Path| run_with(socket, None);
    let (ok, report) = run(&daemon.socket);
    assert!(ok, "{report}");
    for line in ["ok    socket directory", "ok    daemon", "ok    stores", "ok    tokenizer", "ok    grammars", "warn  embeddings", "ok    token classifier"] {
        assert!(report.contains(line), "missing {line:?} in\n{report}");
    }
    let (_, report) = run_with(&daemon.socket, Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../.cache/models")));
    assert!(report.contains("ok    embeddings") && report.contains("all-MiniLM-L6-v2"), "models from ml/fetch.sh:\n{report}");
    let (ok, report) = run(&home.dir.path().join("nowhere.sock"));
    assert!(!ok);
    assert!(report.contains("FAIL  daemon") && report.contains("headroom service install"), "{report}");
}
