//! How a CSV file's columns map onto ticket fields: the mapping from flags and a TOML file,
//! the header row resolved to column positions, and one row's values read by field.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

/// The fields a column can map to.
const FIELDS: &[&str] = &[
    "external_id",
    "ticket_id",
    "subject",
    "body",
    "email",
    "name",
    "status",
    "priority",
    "category",
    "tags",
    "created_at",
    "author_email",
    "author_name",
    "internal",
];

/// The columns a field is read from, in order: the first non-empty one gives the value. A
/// mapping file writes one header as a string or fallbacks as an array of them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "OneOrMany")]
pub(crate) struct Columns(Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrMany> for Columns {
    fn from(columns: OneOrMany) -> Self {
        match columns {
            OneOrMany::One(column) => Self(vec![column]),
            OneOrMany::Many(columns) => Self(columns),
        }
    }
}

/// How a CSV file maps onto tickets.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Mapping {
    /// The source name re-runs are matched under (default: `csv:<file name>`).
    pub(crate) source: Option<String>,
    /// field → column headers (fallbacks after the first).
    #[serde(default)]
    pub(crate) columns: HashMap<String, Columns>,
    /// The requester's email for rows without one.
    pub(crate) default_email: Option<String>,
}

impl Mapping {
    /// A mapping from a TOML file, then `field=Column` flags over it: a field's flags replace
    /// the file's columns for it, and repeating a field adds fallback columns.
    ///
    /// # Errors
    /// An unreadable file, or a flag or field that is not one of the known fields.
    pub(crate) fn load(
        file: Option<&Path>,
        flags: &[String],
        default_email: Option<String>,
        source: Option<String>,
    ) -> anyhow::Result<Self> {
        let mut mapping: Mapping = match file {
            Some(file) => toml::from_str(&std::fs::read_to_string(file)?)?,
            None => Mapping::default(),
        };
        let mut flagged = std::collections::HashSet::new();
        for flag in flags {
            let (field, column) = flag
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--map takes field=Column, not {flag:?}"))?;
            let field = field.trim().to_owned();
            let columns = mapping
                .columns
                .entry(field.clone())
                .or_insert_with(|| Columns(Vec::new()));
            if flagged.insert(field) {
                columns.0.clear();
            }
            columns.0.push(column.trim().to_owned());
        }
        if default_email.is_some() {
            mapping.default_email = default_email;
        }
        if source.is_some() {
            mapping.source = source;
        }
        if let Some(unknown) = mapping
            .columns
            .keys()
            .find(|field| !FIELDS.contains(&field.as_str()))
        {
            anyhow::bail!(
                "{unknown:?} is not a field; fields are {}",
                FIELDS.join(", ")
            );
        }
        if let Some((field, _)) = mapping
            .columns
            .iter()
            .find(|(_, columns)| columns.0.is_empty())
        {
            anyhow::bail!("{field:?} is mapped to no column");
        }
        Ok(mapping)
    }
}

/// One row's values by field.
pub(super) struct Row<'a> {
    pub(super) record: &'a csv::StringRecord,
    pub(super) columns: &'a HashMap<&'a str, Vec<usize>>,
}

impl Row<'_> {
    /// The field's value from the first of its columns that is not blank.
    pub(super) fn get(&self, field: &str) -> Option<&str> {
        self.columns.get(field)?.iter().find_map(|&index| {
            self.record
                .get(index)
                .map(str::trim)
                .filter(|value| !value.is_empty())
        })
    }
}

/// The positions of each mapped field's columns in `headers`: a field mapped by name is read
/// from the columns named so, an unmapped one from a column named like the field, if any.
///
/// # Errors
/// A mapped column is not in the header row.
pub(super) fn column_positions<'field>(
    mapping: &Mapping,
    headers: &csv::StringRecord,
    path: &Path,
) -> anyhow::Result<HashMap<&'field str, Vec<usize>>> {
    let mut columns: HashMap<&str, Vec<usize>> = HashMap::new();
    for field in FIELDS {
        let position = |column: &str| headers.iter().position(|header| header.trim() == column);
        match mapping.columns.get(*field) {
            Some(Columns(named)) => {
                let mut indexes = Vec::with_capacity(named.len());
                for column in named {
                    let index = position(column).ok_or_else(|| {
                        anyhow::anyhow!("{} has no column {column:?}", path.display())
                    })?;
                    indexes.push(index);
                }
                columns.insert(field, indexes);
            }
            None => {
                if let Some(index) = position(field) {
                    columns.insert(field, vec![index]);
                }
            }
        }
    }
    Ok(columns)
}
