//! The Dockerfile as these tests read it: its stages, each with its user, steps, entry point,
//! command and health check.

use std::collections::BTreeMap;

use super::repository_file;

/// One stage of the Dockerfile, with what it inherits from the stage it starts from.
#[derive(Debug, Clone, Default)]
pub(super) struct Stage {
    pub(super) environment: BTreeMap<String, String>,
    pub(super) entrypoint: Vec<String>,
    pub(super) cmd: Vec<String>,
    pub(super) healthcheck: Vec<String>,
    pub(super) volumes: Vec<String>,
    pub(super) workdir: String,
    pub(super) user: String,
    /// `(KEYWORD, arguments)` in order, inherited ones first, continuation lines joined.
    pub(super) instructions: Vec<(String, String)>,
}

/// The Dockerfile's stages by name.
pub(super) fn dockerfile() -> BTreeMap<String, Stage> {
    let text = repository_file("Dockerfile");
    let mut stages: BTreeMap<String, Stage> = BTreeMap::new();
    let mut current: Option<(String, Stage)> = None;
    for line in logical_lines(&text) {
        let (keyword, arguments) = line.split_once(' ').unwrap_or((&line, ""));
        let (keyword, arguments) = (keyword.to_ascii_uppercase(), arguments.trim().to_owned());
        if keyword == "FROM" {
            let words: Vec<&str> = arguments.split_whitespace().collect();
            let [base, as_keyword, name] = words[..] else {
                panic!("every stage is named: FROM {arguments}");
            };
            assert!(as_keyword.eq_ignore_ascii_case("as"), "FROM {arguments}");
            if let Some((name, stage)) = current.take() {
                stages.insert(name, stage);
            }
            let inherited = stages.get(base).cloned().unwrap_or_default();
            current = Some((name.to_owned(), inherited));
            continue;
        }
        let (_, stage) = current.as_mut().expect("FROM comes first");
        match keyword.as_str() {
            "ENV" => {
                for pair in arguments.split_whitespace() {
                    let (name, value) = pair.split_once('=').expect("ENV NAME=value");
                    assert!(!value.contains('"'), "unquoted ENV values: {pair}");
                    stage.environment.insert(name.to_owned(), value.to_owned());
                }
            }
            "ENTRYPOINT" => {
                stage.entrypoint = exec_form(&arguments);
                // Docker too: a new entrypoint drops the command inherited with the old one.
                stage.cmd.clear();
            }
            "CMD" => stage.cmd = exec_form(&arguments),
            "HEALTHCHECK" => {
                let (_, command) = arguments
                    .split_once("CMD ")
                    .expect("HEALTHCHECK [options] CMD [..]");
                stage.healthcheck = exec_form(command);
            }
            "VOLUME" => stage
                .volumes
                .extend(arguments.split_whitespace().map(str::to_owned)),
            "WORKDIR" => stage.workdir = arguments.clone(),
            "USER" => stage.user = arguments.clone(),
            _ => {}
        }
        stage.instructions.push((keyword, arguments));
    }
    let (name, stage) = current.expect("the Dockerfile has stages");
    stages.insert(name, stage);
    stages
}

/// Instructions with their continuation lines joined and comments dropped.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(start) => {
                pending.push_str(start);
                pending.push(' ');
            }
            None => {
                pending.push_str(trimmed);
                lines.push(std::mem::take(&mut pending));
            }
        }
    }
    lines
}

fn exec_form(arguments: &str) -> Vec<String> {
    serde_json::from_str(arguments)
        .unwrap_or_else(|error| panic!("exec form (a JSON array), not {arguments}: {error}"))
}

/// `install -d -o USER … DIR`, or `mkdir` and `chown USER … DIR`, in one step of a RUN.
pub(super) fn creates_owned_directory(step: &str, directory: &str, user: &str) -> bool {
    let words: Vec<&str> = step.split_whitespace().collect();
    let names_directory = words.contains(&directory);
    let owned_by_user = |option: &str| {
        words
            .windows(2)
            .any(|pair| pair[0] == option && pair[1] == user)
    };
    names_directory
        && match words.first() {
            Some(&"install") => words.contains(&"-d") && owned_by_user("-o"),
            Some(&"chown") => words
                .iter()
                .any(|word| word.split(':').next() == Some(user)),
            _ => false,
        }
}
