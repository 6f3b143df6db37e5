//! Checks both binaries' tests make of their command-line definitions, so that `--help` explains
//! every argument and offers each command only the flags it uses.

/// `command path: argument` for every argument of `command` and of all its subcommands, flags
/// inherited from a parent included, that has no help text.
pub fn arguments_without_help(command: &clap::Command) -> Vec<String> {
    let mut command = command.clone();
    command.build();
    let mut missing = Vec::new();
    collect_without_help(&command, command.get_name(), &mut missing);
    missing
}

fn collect_without_help(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
    for argument in command.get_arguments() {
        if argument.get_help().is_none() && argument.get_long_help().is_none() {
            missing.push(format!("{path}: {}", argument.get_id()));
        }
    }
    for subcommand in command.get_subcommands() {
        let path = format!("{path} {}", subcommand.get_name());
        collect_without_help(subcommand, &path, missing);
    }
}

/// The ids of the arguments the subcommand at `path` (names from the top, such as
/// `["import", "csv"]`) offers in its help, inherited ones included.
///
/// # Panics
/// No subcommand is at `path`.
pub fn arguments_of(command: &clap::Command, path: &[&str]) -> Vec<String> {
    let mut command = command.clone();
    command.build();
    let mut current = &command;
    for name in path {
        current = current
            .find_subcommand(name)
            .unwrap_or_else(|| panic!("no subcommand {name}"));
    }
    current
        .get_arguments()
        .filter(|argument| !argument.is_hide_set())
        .map(|argument| argument.get_id().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inherited_flag_without_help_is_named_under_each_subcommand() {
        let command = clap::Command::new("tool")
            .arg(clap::Arg::new("loud").long("loud").global(true))
            .arg(clap::Arg::new("quiet").long("quiet").help("Say less"))
            .subcommand(clap::Command::new("go").about("Go"));
        assert_eq!(
            arguments_without_help(&command),
            ["tool: loud", "tool go: loud"]
        );
        assert_eq!(arguments_of(&command, &["go"]), ["loud", "help"]);
    }
}
