//! `docker-compose.yml` as these tests read it: its services, with variables substituted as
//! `docker compose` substitutes them.

use std::collections::BTreeMap;
use std::path::Path;

use growdesk_store::testkit::TestDatabase;
use serde::Deserialize;

use super::container::ContainerSpec;
use super::dockerfile::Stage;
use super::repository_file;

#[derive(Debug, Deserialize)]
struct ComposeFile {
    services: BTreeMap<String, ComposeService>,
}

#[derive(Debug, Deserialize)]
struct ComposeService {
    build: Option<ComposeBuild>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    command: Option<Vec<String>>,
    #[serde(default)]
    volumes: Vec<String>,
    #[serde(default)]
    ports: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ComposeBuild {
    context: String,
    dockerfile: Option<String>,
    target: Option<String>,
}

/// `docker-compose.yml` with its variables substituted from a given shell.
pub(super) struct Compose {
    file: ComposeFile,
    shell: BTreeMap<&'static str, &'static str>,
}

impl Compose {
    pub(super) fn read(shell: &BTreeMap<&'static str, &'static str>) -> Self {
        let file = serde_norway::from_str(&repository_file("docker-compose.yml"))
            .expect("docker-compose.yml parses");
        Self {
            file,
            shell: shell.clone(),
        }
    }

    pub(super) fn environment(&self, service: &str) -> BTreeMap<String, String> {
        self.file.services[service]
            .environment
            .iter()
            .map(|(name, value)| {
                let value = interpolate(value, &self.shell)
                    .unwrap_or_else(|error| panic!("{service}: {name}: {error}"));
                (name.clone(), value)
            })
            .collect()
    }

    /// A built service as it would run: its image's stage, its environment over the image's,
    /// its command, its volumes, and the `postgres` service standing for the test's database.
    pub(super) fn container(
        &self,
        name: &str,
        stages: &BTreeMap<String, Stage>,
        database: &TestDatabase,
        volumes: &Path,
    ) -> ContainerSpec {
        let service = &self.file.services[name];
        let build = service.build.as_ref().expect("built from this repository");
        assert_eq!(build.context, ".");
        assert_eq!(
            build.dockerfile.as_deref().unwrap_or("Dockerfile"),
            "Dockerfile"
        );
        let stage = &stages[build.target.as_deref().expect("names its image's stage")];
        let postgres = self.environment("postgres");
        let compose_database = format!(
            "postgres://{}:{}@postgres:5432/{}",
            postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"]
        );
        let mut environment = stage.environment.clone();
        for (variable, value) in self.environment(name) {
            if variable == "GROWDESK_DATABASE_URL" {
                assert_eq!(value, compose_database, "{name} uses the postgres service");
                environment.insert(variable, database.url().to_owned());
            } else {
                environment.insert(variable, value);
            }
        }
        let mounts = service
            .volumes
            .iter()
            .map(|mount| {
                let (volume, path) = mount.split_once(':').expect("VOLUME:PATH");
                (path.to_owned(), volumes.join(volume))
            })
            .collect();
        for port in &service.ports {
            let container_port = port.rsplit(':').next().unwrap();
            let listens = &environment["GROWDESK_ADDR"];
            assert!(
                listens.ends_with(&format!(":{container_port}")),
                "{name} publishes {port}, listens on {listens}"
            );
        }
        let command = service.command.clone().unwrap_or_else(|| stage.cmd.clone());
        ContainerSpec::new(stage, environment, command, mounts, volumes)
    }
}

/// `text` with `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
/// `$VAR` and `$$` replaced as `docker compose` replaces them; the error of a missing required
/// variable otherwise.
pub(super) fn interpolate(text: &str, shell: &BTreeMap<&str, &str>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
        } else if let Some(braced) = rest.strip_prefix('{') {
            let end = braced.find('}').ok_or("unclosed ${")?;
            out.push_str(&substitute(&braced[..end], shell)?);
            rest = &braced[end + 1..];
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.push_str(shell.get(&rest[..end]).copied().unwrap_or_default());
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn substitute(expression: &str, shell: &BTreeMap<&str, &str>) -> Result<String, String> {
    let name_end = expression
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(expression.len());
    let (name, operator) = expression.split_at(name_end);
    let value = shell.get(name).copied();
    let set_and_not_empty = value.filter(|value| !value.is_empty());
    let chosen = if let Some(default) = operator.strip_prefix(":-") {
        set_and_not_empty.unwrap_or(default)
    } else if let Some(default) = operator.strip_prefix('-') {
        value.unwrap_or(default)
    } else if let Some(error) = operator.strip_prefix(":?") {
        set_and_not_empty.ok_or(error)?
    } else if let Some(error) = operator.strip_prefix('?') {
        value.ok_or(error)?
    } else {
        assert!(operator.is_empty(), "unknown operator in ${{{expression}}}");
        value.unwrap_or_default()
    };
    Ok(chosen.to_owned())
}
