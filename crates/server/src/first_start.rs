//! The operator's first sight of a running server: where it listens and how to sign in. A
//! generated first-admin password is shown only to a person at a terminal; when standard output
//! is a file or a journal, it goes to a file in the data directory only the service user reads.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use growdesk_service::accounts::AdminBootstrap;

/// The file in the data directory that receives a generated first-admin password when standard
/// output is not a terminal.
pub(crate) const PASSWORD_FILE: &str = "first-admin-password";

/// Where a generated password was put.
#[derive(Debug, PartialEq, Eq)]
enum PasswordPlace {
    Terminal,
    File(PathBuf),
}

/// Prints where the server runs and how to sign in, first putting a generated admin password
/// where only the operator sees it.
///
/// # Errors
/// The password file cannot be written.
pub(crate) fn tell_how_to_sign_in(
    base: &str,
    admin: &AdminBootstrap,
    data_dir: &Path,
) -> Result<(), String> {
    let stdout = std::io::stdout();
    let place = match admin {
        AdminBootstrap::CreatedWithPassword { email, password } => Some(place_password(
            email,
            password,
            stdout.is_terminal(),
            data_dir,
        )?),
        AdminBootstrap::Present | AdminBootstrap::Created { .. } => None,
    };
    // The help is a courtesy: a closed standard output must not stop the server.
    let _ = stdout
        .lock()
        .write_all(sign_in_help(base, admin, place.as_ref()).as_bytes());
    Ok(())
}

fn place_password(
    email: &str,
    password: &str,
    to_terminal: bool,
    data_dir: &Path,
) -> Result<PasswordPlace, String> {
    if to_terminal {
        return Ok(PasswordPlace::Terminal);
    }
    let path = data_dir.join(PASSWORD_FILE);
    growdesk_app::private_file::replace(&path, format!("{password}\n").as_bytes()).map_err(
        |error| {
            format!(
                "cannot write the first admin's password to {}: {error}; set one with \
                 `growdesk-server reset-password --email {email}`",
                path.display()
            )
        },
    )?;
    tracing::info!(
        path = %path.display(),
        "the first admin's generated password is in this file, readable by this user only"
    );
    Ok(PasswordPlace::File(path))
}

fn sign_in_help(base: &str, admin: &AdminBootstrap, place: Option<&PasswordPlace>) -> String {
    let mut help = format!("GrowDesk is running at {base} (API docs: {base}/api/docs).\n");
    let (email, password) = match (admin, place) {
        (AdminBootstrap::Created { email }, _) => {
            help.push_str(&format!("First admin created: {email}\n"));
            (email.as_str(), json_in_shell("<GROWDESK_ADMIN_PASSWORD>"))
        }
        (AdminBootstrap::CreatedWithPassword { email, password }, Some(place)) => {
            help.push_str(&format!("First admin created: {email}\n"));
            let shown = match place {
                PasswordPlace::Terminal => {
                    help.push_str(&format!("Its password, shown this once: {password}\n"));
                    json_in_shell(password)
                }
                PasswordPlace::File(path) => {
                    help.push_str(&format!(
                        "Its password is in {} (readable by this user only; not shown, as \
                         standard output is not a terminal).\n",
                        path.display()
                    ));
                    // A generated password is URL-safe base64, so it needs no escaping in JSON;
                    // `$(…)` drops the file's final newline.
                    format!("\\\"$(cat {})\\\"", shell_word(&path.display().to_string()))
                }
            };
            help.push_str(
                "Change it with PATCH /api/auth/me or growdesk-server reset-password, or set \
                 GROWDESK_ADMIN_EMAIL and GROWDESK_ADMIN_PASSWORD before the first start.\n",
            );
            (email.as_str(), shown)
        }
        _ => ("<email>", json_in_shell("<password>")),
    };
    help.push_str(&format!(
        "Sign in:\n  curl -fsS {} -H 'content-type: application/json' \
         -d \"{{\\\"email\\\":{},\\\"password\\\":{password}}}\"\n",
        shell_word(&format!("{base}/api/auth/login")),
        json_in_shell(email)
    ));
    help
}

/// `text` as a JSON string, escaped to sit inside a shell's double quotes.
fn json_in_shell(text: &str) -> String {
    let json = serde_json::Value::from(text).to_string();
    let mut escaped = String::with_capacity(json.len() + 8);
    for character in json.chars() {
        if matches!(character, '\\' | '"' | '$' | '`') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// `text` as one shell word: as it is when it holds nothing the shell would interpret, else in
/// single quotes.
fn shell_word(text: &str) -> String {
    let plain = |character: char| {
        character.is_ascii_alphanumeric()
            || matches!(
                character,
                '/' | '.' | '_' | '-' | '+' | ':' | '@' | ',' | '='
            )
    };
    if !text.is_empty() && text.chars().all(plain) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn generated() -> AdminBootstrap {
        AdminBootstrap::CreatedWithPassword {
            email: "admin@growdesk.local".to_owned(),
            password: "generated-password-123".to_owned(),
        }
    }

    /// What bash hands curl as the sign-in body of `help`'s command, with `curl` a function
    /// that prints its last argument.
    fn body_bash_sends(help: &str, dir: &Path) -> serde_json::Value {
        let command = help.lines().last().unwrap();
        let output = std::process::Command::new("bash")
            .current_dir(dir)
            .args([
                "-c",
                &format!("curl() {{ printf %s \"${{@: -1}}\"; }}\n{command}"),
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{command}");
        serde_json::from_slice(&output.stdout).unwrap_or_else(|error| panic!("{command}: {error}"))
    }

    #[test]
    fn the_printed_sign_in_command_sends_the_password_whatever_the_path_and_email() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("it's a \"data\" $dir `x`");
        let email = r#"o'neil"$HOME\`x`@example.com"#;
        let password = growdesk_service::accounts::generated_password();
        let admin = AdminBootstrap::CreatedWithPassword {
            email: email.to_owned(),
            password: password.clone(),
        };
        for to_terminal in [false, true] {
            let place = place_password(email, &password, to_terminal, &data).unwrap();
            let help = sign_in_help("http://[::1]:8080", &admin, Some(&place));
            assert!(
                help.contains("curl -fsS 'http://[::1]:8080/api/auth/login'"),
                "{help}"
            );
            let body = body_bash_sends(&help, dir.path());
            assert_eq!(body["email"], email, "{help}");
            assert_eq!(body["password"], password.as_str(), "{help}");
        }
    }

    #[test]
    fn a_terminal_sees_the_password_and_no_file_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let place = place_password(
            "admin@growdesk.local",
            "generated-password-123",
            true,
            dir.path(),
        )
        .unwrap();
        assert_eq!(place, PasswordPlace::Terminal);
        assert!(!dir.path().join(PASSWORD_FILE).exists());
        let help = sign_in_help("http://x", &generated(), Some(&place));
        assert!(help.contains("generated-password-123"), "{help}");
    }

    #[test]
    fn anywhere_else_the_password_goes_to_an_owner_only_file() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let place = place_password(
            "admin@growdesk.local",
            "generated-password-123",
            false,
            &data,
        )
        .unwrap();
        let path = data.join(PASSWORD_FILE);
        assert_eq!(place, PasswordPlace::File(path.clone()));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "generated-password-123\n"
        );
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&data), 0o700);
        let help = sign_in_help("http://x", &generated(), Some(&place));
        assert!(!help.contains("generated-password-123"), "{help}");
        assert!(help.contains(&path.display().to_string()), "{help}");
    }
}
