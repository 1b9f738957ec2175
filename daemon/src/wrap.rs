//! `headroom wrap <agent> [-- args]`: runs a coding agent with its base-URL environment
//! variables pointed at the daemon's HTTP front, after checking that the front answers. The
//! front's port is asked of the running daemon (it may have been started with `--http-port`);
//! only when no daemon answers on the socket does the configuration say where to look. Nothing
//! is written anywhere: the variables live in the agent's process only, so `headroom unwrap`
//! has nothing to undo.

use crate::client::Client;
use crate::config::{self, HttpSettings};
use headroom_protocol::InfoReply;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// How long the health check may take.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// The environment variables that point `agent` (a command name or path) at the front on
/// `port`: Claude Code speaks Anthropic, Codex and other OpenAI-compatible tools speak OpenAI,
/// Aider (through LiteLLM) may speak either.
pub fn variables(agent: &str, port: u16) -> Vec<(&'static str, String)> {
    let anthropic = format!("http://127.0.0.1:{port}");
    let openai = format!("http://127.0.0.1:{port}/v1");
    let name = Path::new(agent).file_name().and_then(|n| n.to_str()).unwrap_or(agent);
    match name {
        "claude" | "claude-code" => vec![("ANTHROPIC_BASE_URL", anthropic)],
        "aider" => vec![
            ("ANTHROPIC_BASE_URL", anthropic),
            ("OPENAI_API_BASE", openai.clone()),
            ("OPENAI_BASE_URL", openai),
        ],
        _ => vec![("OPENAI_BASE_URL", openai.clone()), ("OPENAI_API_BASE", openai)],
    }
}

/// Whether a headroomd HTTP front answers `GET /health` on 127.0.0.1:`port`.
pub fn front_answers(port: u16) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, HEALTH_TIMEOUT).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(HEALTH_TIMEOUT)).map_err(|e| e.to_string())?;
    stream
        .write_all(format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).map_err(|e| e.to_string())?;
    if reply.starts_with("HTTP/1.1 200") && reply.contains("\"headroomd\"") {
        Ok(())
    } else {
        Err(format!("something else answers there ({:?})", reply.lines().next().unwrap_or("")))
    }
}

/// Where the front is: the running daemon's answer to `Info`, else the configured port when no
/// daemon answers on `socket`. `Err` when the running daemon has its front off.
fn front_port(socket: &Path, http: &HttpSettings) -> Result<u16, String> {
    match crate::client::blocking(socket, async |c: &mut Client| c.info().await) {
        Ok(InfoReply { http_address: Some(address), .. }) => address
            .parse::<SocketAddr>()
            .map(|a| a.port())
            .map_err(|e| format!("the daemon reports an unreadable HTTP address {address:?}: {e}")),
        Ok(InfoReply { http_address: None, .. }) => Err(how_to_enable(http, "the running daemon has it off")),
        Err(_) => Ok(http.port),
    }
}

/// How to turn the front on, for the error when it does not answer.
fn how_to_enable(http: &HttpSettings, why: &str) -> String {
    format!(
        "headroomd's HTTP front does not answer on http://127.0.0.1:{port} ({why}).\n\
         Turn it on and restart the daemon:\n  \
         echo 'http = true' >> {config}   # or HEADROOM_HTTP=1, or headroomd --http\n  \
         systemctl --user restart headroomd   # or restart headroomd by hand\n\
         (the port is http_port, now {port}{enabled})",
        port = http.port,
        config = config::config_path().display(),
        enabled = if http.enabled { "; http is already on in this configuration: is headroomd running?" } else { "" },
    )
}

/// Checks the front, prints what it sets and replaces this process with the agent. Returns
/// only on failure.
pub fn wrap(agent: &str, args: &[String]) -> String {
    let settings = match config::load(&[]) {
        Ok(loaded) => loaded.settings,
        Err(e) => return e.to_string(),
    };
    let port = match front_port(&settings.socket, &settings.http) {
        Ok(port) => port,
        Err(advice) => return advice,
    };
    if let Err(why) = front_answers(port) {
        return how_to_enable(&HttpSettings { port, ..settings.http }, &why);
    }
    let mut command = Command::new(agent);
    command.args(args);
    for (name, value) in variables(agent, port) {
        match std::env::var(name) {
            Ok(previous) if !previous.is_empty() && previous != value => log::info!(
                "{name}={value} (was {previous}; headroomd forwards to its {} instead)",
                if name.starts_with("ANTHROPIC") { "anthropic_upstream" } else { "openai_upstream" }
            ),
            _ => log::info!("{name}={value}"),
        }
        command.env(name, value);
    }
    // The log writer is a thread: what it has not written yet, exec would lose.
    crate::log::flush();
    let error = command.exec();
    format!("cannot run {agent}: {error}")
}

/// What `headroom unwrap` says: there is nothing to undo.
pub fn unwrap() -> &'static str {
    "headroom wrap changes nothing persistently: it only sets base-URL variables in the environment of the agent \
     it starts. Nothing to undo; run the agent without `headroom wrap` to bypass Headroom."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_agent_gets_the_variables_it_reads() {
        assert_eq!(variables("claude", 8787), vec![("ANTHROPIC_BASE_URL", "http://127.0.0.1:8787".to_string())]);
        assert_eq!(variables("/usr/local/bin/codex", 9000)[0], ("OPENAI_BASE_URL", "http://127.0.0.1:9000/v1".to_string()));
        let aider: Vec<&str> = variables("aider", 1).into_iter().map(|(k, _)| k).collect();
        assert_eq!(aider, ["ANTHROPIC_BASE_URL", "OPENAI_API_BASE", "OPENAI_BASE_URL"]);
        assert_eq!(variables("llm", 1)[1].0, "OPENAI_API_BASE");
    }

    #[test]
    fn a_closed_port_is_reported_with_how_to_turn_the_front_on() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let why = front_answers(port).unwrap_err();
        let advice = how_to_enable(&HttpSettings { port, ..HttpSettings::default() }, &why);
        assert!(advice.contains("http = true") && advice.contains("HEADROOM_HTTP=1"), "{advice}");
    }
}
