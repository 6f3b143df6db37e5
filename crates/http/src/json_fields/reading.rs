//! Reading a request type from a `Document`: a deserialiser over the parsed tree whose errors
//! are `Misfit`s, each given the keys and indexes it passed through on its way out.

use serde::de::{
    self, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};
use serde::{Deserialize, Deserializer};

use super::Document;
use super::misfit::{Misfit, Step};

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
