//! `headroom learn --llm`: asks an OpenAI-compatible chat endpoint the user configured to word
//! the deterministic findings as better rules. Only the advice changes: what was found, its key
//! and its evidence stay as `headroom learn` found them, so the block still merges run to run.
//! The digest sent is bounded ([`BUDGET_TOKENS`]); without `--llm` nothing leaves the machine.
//!
//! Configured by the environment: `HEADROOM_LEARN_BASE_URL` (default
//! `https://api.openai.com/v1`), `HEADROOM_LEARN_MODEL` (default `gpt-4o-mini`) and the key in
//! `HEADROOM_LEARN_API_KEY`, else `OPENAI_API_KEY`.

use super::Rule;
use serde_json::{json, Value};
use std::time::Duration;

/// Most tokens of findings sent (4 bytes a token); findings past it keep their own wording.
pub const BUDGET_TOKENS: usize = 4_000;

/// How long the endpoint may take.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Where to ask, with which model and key.
pub struct Endpoint {
    pub base_url: String,
    pub model: String,
    pub key: Option<String>,
}

impl Endpoint {
    /// The endpoint the environment names.
    pub fn from_env() -> Endpoint {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Endpoint {
            base_url: var("HEADROOM_LEARN_BASE_URL").unwrap_or_else(|| "https://api.openai.com/v1".into()).trim_end_matches('/').to_string(),
            model: var("HEADROOM_LEARN_MODEL").unwrap_or_else(|| "gpt-4o-mini".into()),
            key: var("HEADROOM_LEARN_API_KEY").or_else(|| var("OPENAI_API_KEY")),
        }
    }
}

const INSTRUCTIONS: &str = "You turn findings from a coding agent's own logs into instructions for that agent. For each \
numbered finding (a call that failed and what fixed it, or a call repeated), write one short, concrete instruction in the \
imperative, under 30 words, that avoids the mistake next time; keep commands and flags exact, in backticks. Answer with \
exactly one line per finding, `N. instruction`, nothing else.";

/// The numbered digest of the rules that fit the budget.
fn digest(rules: &[Rule]) -> (String, usize) {
    let mut text = String::new();
    let mut sent = 0;
    for (i, rule) in rules.iter().enumerate() {
        let line = format!("{}. {} — {}\n", i + 1, rule.key, rule.advice);
        if text.len() + line.len() > BUDGET_TOKENS * 4 {
            break;
        }
        text.push_str(&line);
        sent += 1;
    }
    (text, sent)
}

/// The advice for every rule: the model's for those it was sent and answered, the rule's own
/// for the rest. A failing endpoint is an error that names it (the block is not written).
pub fn reword(endpoint: &Endpoint, rules: &[Rule]) -> Result<Vec<String>, String> {
    let (text, sent) = digest(rules);
    let mut advice: Vec<String> = rules.iter().map(|r| r.advice.clone()).collect();
    if sent == 0 {
        return Ok(advice);
    }
    let body = json!({
        "model": endpoint.model,
        "temperature": 0,
        "messages": [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": text}],
    });
    let url = format!("{}/chat/completions", endpoint.base_url);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let answer: Value = runtime.block_on(async {
        let client = reqwest::Client::builder().timeout(TIMEOUT).build().map_err(|e| e.to_string())?;
        let mut request = client.post(&url).header("content-type", "application/json").body(body.to_string());
        if let Some(key) = &endpoint.key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(|e| format!("--llm: cannot reach {url}: {e}"))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| format!("--llm: {url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("--llm: {url} answered {status}: {}", String::from_utf8_lossy(&bytes).chars().take(300).collect::<String>()));
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("--llm: {url} answered something that is not JSON: {e}"))
    })?;
    let content = answer.pointer("/choices/0/message/content").and_then(Value::as_str).unwrap_or_default();
    for line in content.lines() {
        let Some((number, text)) = line.trim().split_once(". ") else { continue };
        let Ok(n) = number.trim().parse::<usize>() else { continue };
        if (1..=sent).contains(&n) && !text.trim().is_empty() {
            advice[n - 1] = text.trim().replace(" — ", " - ");
        }
    }
    Ok(advice)
}
