//! Reading a parsed JSON body into a request type so that a refusal names its field from the
//! deserialisation itself: the keys and indexes down to the refused value, or the field the
//! type's own `Deserialize` reports missing, unknown or repeated — never from an error message.
//!
//! A body serde_json refused as data for the request type is parsed again into a `Document`
//! (its objects in order, repeated keys kept), and the request type read from it through a
//! deserialiser whose error type is `Misfit`, which reaches the same refusal and says where.

mod misfit;
mod reading;

use std::fmt;

use serde::de::{DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

pub(crate) use misfit::Misfit;

/// A JSON document as written: objects keep their keys' order and any repeated key, so the
/// request type sees exactly what serde_json would have shown it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Document {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    String(String),
    Array(Vec<Document>),
    Object(Vec<(String, Document)>),
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Document, E> {
        Ok(Document::Null)
    }

    fn visit_none<E>(self) -> Result<Document, E> {
        Ok(Document::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Document, D::Error> {
        Document::deserialize(deserializer)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Document, E> {
        Ok(Document::Bool(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Document, E> {
        Ok(Document::Unsigned(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Document, E> {
        Ok(Document::Signed(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Document, E> {
        Ok(Document::Float(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Document, E> {
        Ok(Document::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Document, E> {
        Ok(Document::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Document, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Document::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Document::Object(entries))
    }
}

/// Reads `T` from `document`.
///
/// # Errors
/// Where and why the document does not fit `T`.
pub(crate) fn read<T: DeserializeOwned>(document: Document) -> Result<T, Misfit> {
    T::deserialize(document)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use uuid::Uuid;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Login {
        email: String,
        password: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Role {
        Admin,
        Agent,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Settings {
        color: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Widget {
        role: Option<Role>,
        tags: Vec<String>,
        settings: Option<Settings>,
        category_id: Option<Uuid>,
    }

    fn misfit<T: DeserializeOwned + fmt::Debug>(json: &str) -> (Option<String>, String) {
        let document: Document = serde_json::from_str(json).unwrap();
        let misfit = read::<T>(document).unwrap_err();
        (misfit.field(), misfit.reason().to_owned())
    }

    #[test]
    fn fields_are_named_by_the_type() {
        assert_eq!(
            misfit::<Login>(r#"{"email": "a@example.com"}"#),
            (Some("password".into()), "missing field `password`".into())
        );
        assert_eq!(
            misfit::<Login>(r#"{"email": 5, "password": "x"}"#),
            (
                Some("email".into()),
                "invalid type: integer `5`, expected a string".into()
            )
        );
        assert_eq!(
            misfit::<Login>(r#"{"email": null, "password": "x"}"#),
            (
                Some("email".into()),
                "invalid type: null, expected a string".into()
            )
        );
        assert_eq!(
            misfit::<Login>(r#"{"email": "a", "password": "x", "role": "admin"}"#),
            (
                Some("role".into()),
                "unknown field `role`, expected `email` or `password`".into()
            )
        );
        assert_eq!(
            misfit::<Login>(r#"{"email": "a", "email": "b", "password": "x"}"#),
            (Some("email".into()), "duplicate field `email`".into())
        );
        assert_eq!(misfit::<Login>("[1, 2]").0, None);
    }

    #[test]
    fn nested_values_are_named_by_their_path() {
        let (field, reason) = misfit::<Widget>(r#"{"role": "root", "tags": []}"#);
        assert_eq!(field.as_deref(), Some("role"));
        assert_eq!(
            reason,
            "unknown variant `root`, expected `admin` or `agent`"
        );
        assert_eq!(
            misfit::<Widget>(r#"{"tags": ["a", 3]}"#).0.as_deref(),
            Some("tags[1]")
        );
        assert_eq!(
            misfit::<Widget>(r#"{"tags": [], "settings": {"color": 3}}"#)
                .0
                .as_deref(),
            Some("settings.color")
        );
        // A field the nested type names itself sits below its object too.
        assert_eq!(
            misfit::<Widget>(r#"{"tags": [], "settings": {"color": "red", "size": 3}}"#)
                .0
                .as_deref(),
            Some("settings.size")
        );
        assert_eq!(
            misfit::<Widget>(r#"{"tags": [], "settings": {}}"#)
                .0
                .as_deref(),
            Some("settings.color")
        );
        assert_eq!(
            misfit::<Widget>(r#"{"tags": [], "category_id": "x"}"#)
                .0
                .as_deref(),
            Some("category_id")
        );
    }

    #[test]
    fn documents_read_as_serde_json_reads_the_text() {
        let json = r##"{"role": "agent", "tags": ["a"], "settings": {"color": "#fff"}, "category_id": null}"##;
        let document: Document = serde_json::from_str(json).unwrap();
        let widget: Widget = read(document).unwrap();
        assert!(matches!(widget.role, Some(Role::Agent)));
        assert_eq!(widget.tags, ["a"]);
        assert_eq!(
            widget.settings.map(|settings| settings.color).as_deref(),
            Some("#fff")
        );
        assert!(widget.category_id.is_none());
        let document: Document = serde_json::from_str(r#"{"role": "admin", "tags": []}"#).unwrap();
        assert!(matches!(
            read::<Widget>(document).unwrap().role,
            Some(Role::Admin)
        ));
        let document: Document =
            serde_json::from_str(r#"{"email": "a@example.com", "password": "pw"}"#).unwrap();
        let login: Login = read(document).unwrap();
        assert_eq!(
            (login.email.as_str(), login.password.as_str()),
            ("a@example.com", "pw")
        );
    }
}
