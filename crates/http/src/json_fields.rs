//! Reading a parsed JSON body into a request type so that a refusal names its field from the
//! deserialisation itself: the keys and indexes down to the refused value, or the field the
//! type's own `Deserialize` reports missing, unknown or repeated — never from an error message.
//!
//! The body is first parsed into a `Document` (its objects in order, repeated keys kept), then
//! the request type is read from it through a deserialiser whose error type is `Misfit`.

use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};
use serde::{Deserialize, Deserializer};

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

/// One step from a value to one inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Why a document does not fit a request type, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Misfit {
    /// From the document's root to the refused value, outermost first.
    path: Vec<Step>,
    /// The field the type itself reported missing, unknown or repeated.
    named: Option<String>,
    reason: String,
}

impl Misfit {
    /// The field to name in a validation error: the one the type reported, or the path to the
    /// refused value as `settings.color` or `tags[2]`; `None` for the document as a whole.
    pub(crate) fn field(&self) -> Option<String> {
        if let Some(named) = &self.named {
            return Some(named.clone());
        }
        let mut field = String::new();
        for step in &self.path {
            match step {
                Step::Key(key) if field.is_empty() => field.push_str(key),
                Step::Key(key) => {
                    field.push('.');
                    field.push_str(key);
                }
                Step::Index(index) => field.push_str(&format!("[{index}]")),
            }
        }
        (!field.is_empty()).then_some(field)
    }

    /// Why, in serde's words, without the path.
    pub(crate) fn reason(&self) -> &str {
        &self.reason
    }

    fn within(mut self, step: Step) -> Self {
        self.path.insert(0, step);
        self
    }

    /// A refusal the type names a field in, worded as serde words it.
    fn naming(field: &str, reason: de::value::Error) -> Self {
        Self {
            path: Vec::new(),
            named: Some(field.to_owned()),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for Misfit {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.reason)
    }
}

impl std::error::Error for Misfit {}

impl de::Error for Misfit {
    fn custom<T: fmt::Display>(reason: T) -> Self {
        Self {
            path: Vec::new(),
            named: None,
            reason: reason.to_string(),
        }
    }

    // serde_json calls JSON's null "null" where serde says "unit value"; so do we.
    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        match unexpected {
            Unexpected::Unit => {
                Self::custom(format_args!("invalid type: null, expected {expected}"))
            }
            other => Self::custom(format_args!("invalid type: {other}, expected {expected}")),
        }
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        match unexpected {
            Unexpected::Unit => {
                Self::custom(format_args!("invalid value: null, expected {expected}"))
            }
            other => Self::custom(format_args!("invalid value: {other}, expected {expected}")),
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Self::naming(field, de::value::Error::missing_field(field))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::naming(field, de::value::Error::unknown_field(field, expected))
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::naming(field, de::value::Error::duplicate_field(field))
    }
}

/// Reads `T` from `document`.
///
/// # Errors
/// Where and why the document does not fit `T`.
pub(crate) fn read<T: DeserializeOwned>(document: Document) -> Result<T, Misfit> {
    T::deserialize(document)
}

impl<'de> Deserializer<'de> for Document {
    type Error = Misfit;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Misfit> {
        match self {
            Document::Null => visitor.visit_unit(),
            Document::Bool(value) => visitor.visit_bool(value),
            Document::Unsigned(value) => visitor.visit_u64(value),
            Document::Signed(value) => visitor.visit_i64(value),
            Document::Float(value) => visitor.visit_f64(value),
            Document::String(value) => visitor.visit_string(value),
            Document::Array(items) => visitor.visit_seq(Items {
                items: items.into_iter().enumerate(),
            }),
            Document::Object(entries) => visitor.visit_map(Entries {
                entries: entries.into_iter(),
                pending: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Misfit> {
        match self {
            Document::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Misfit> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Misfit> {
        match self {
            Document::String(variant) => visitor.visit_enum(variant.into_deserializer()),
            Document::Object(mut entries) if entries.len() == 1 => {
                let (variant, value) = entries.remove(0);
                let step = Step::Key(variant.clone());
                visitor
                    .visit_enum(Variant { variant, value })
                    .map_err(|misfit| misfit.within(step))
            }
            other => Err(de::Error::invalid_type(other.unexpected(), &"enum")),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl Document {
    fn unexpected(&self) -> Unexpected<'_> {
        match self {
            Document::Null => Unexpected::Unit,
            Document::Bool(value) => Unexpected::Bool(*value),
            Document::Unsigned(value) => Unexpected::Unsigned(*value),
            Document::Signed(value) => Unexpected::Signed(*value),
            Document::Float(value) => Unexpected::Float(*value),
            Document::String(value) => Unexpected::Str(value),
            Document::Array(_) => Unexpected::Seq,
            Document::Object(_) => Unexpected::Map,
        }
    }
}

struct Items {
    items: std::iter::Enumerate<std::vec::IntoIter<Document>>,
}

impl<'de> SeqAccess<'de> for Items {
    type Error = Misfit;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Misfit> {
        let Some((index, item)) = self.items.next() else {
            return Ok(None);
        };
        seed.deserialize(item)
            .map(Some)
            .map_err(|misfit| misfit.within(Step::Index(index)))
    }
}

struct Entries {
    entries: std::vec::IntoIter<(String, Document)>,
    /// The value of the key just read, with that key.
    pending: Option<(String, Document)>,
}

impl<'de> MapAccess<'de> for Entries {
    type Error = Misfit;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Misfit> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        let read = seed.deserialize(Document::String(key.clone()))?;
        self.pending = Some((key, value));
        Ok(Some(read))
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Misfit> {
        let (key, value) = self
            .pending
            .take()
            .ok_or_else(|| de::Error::custom("a value was asked for before its key"))?;
        seed.deserialize(value)
            .map_err(|misfit| misfit.within(Step::Key(key)))
    }
}

/// An externally tagged enum value, `{"variant": value}`.
struct Variant {
    variant: String,
    value: Document,
}

impl<'de> EnumAccess<'de> for Variant {
    type Error = Misfit;
    type Variant = Document;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Document), Misfit> {
        let read = seed.deserialize(Document::String(self.variant))?;
        Ok((read, self.value))
    }
}

impl<'de> VariantAccess<'de> for Document {
    type Error = Misfit;

    fn unit_variant(self) -> Result<(), Misfit> {
        <()>::deserialize(self)
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Misfit> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Misfit> {
        self.deserialize_any(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Misfit> {
        self.deserialize_any(visitor)
    }
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
