//! A row struct's fields as bind values, straight from its `Serialize` (for `Dialect::rows`
//! on SQLite): each field becomes the `Value` SQLite's `->>` would read from the row's JSON,
//! without building that JSON (a `serde_json::Value` map per row, its keys allocated and
//! removed again, was a tenth of the issuance writer's CPU). A row with a field this does
//! not take (a list, a map, a nested struct...) answers `None`, and the caller goes through
//! `serde_json` as before.

use crate::Value;
use serde::ser::{self, Impossible, Serialize};
use std::fmt;

/// `row`'s fields by name, in declaration order; `None` when a field is not a scalar.
pub(super) fn fields<T: Serialize>(row: &T) -> Option<Vec<(&'static str, Value)>> {
    row.serialize(RowSerializer).ok()
}

#[derive(Debug)]
struct Unsupported;

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a row of scalar fields")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Unsupported
    }
}

/// Declares the serializer methods that refuse their kind of value.
macro_rules! refuse {
    ($($method:ident($($arg:ty),*) -> $out:ty;)*) => {
        $(fn $method(self $(, _: $arg)*) -> Result<$out, Unsupported> { Err(Unsupported) })*
    };
}

/// Declares the refusals of sequences, tuples, maps and enum variants with data, which
/// neither serializer takes.
macro_rules! refuse_lists_and_maps {
    () => {
        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<Self::Ok, Unsupported> {
            Err(Unsupported)
        }
        refuse! {
            serialize_seq(Option<usize>) -> Self::SerializeSeq;
            serialize_tuple(usize) -> Self::SerializeTuple;
            serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
            serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
            serialize_map(Option<usize>) -> Self::SerializeMap;
        }
    };
}

/// Declares the field serializer's methods for integers that fit an `i64`.
macro_rules! ints {
    ($($method:ident($int:ty))*) => {
        $(fn $method(self, v: $int) -> Result<Value, Unsupported> { Ok(Value::Int(Some(v.into()))) })*
    };
}

/// A row: a struct, whose fields go through `FieldSerializer`.
struct RowSerializer;

struct RowFields(Vec<(&'static str, Value)>);

impl ser::SerializeStruct for RowFields {
    type Ok = Vec<(&'static str, Value)>;
    type Error = Unsupported;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Unsupported> {
        self.0.push((key, value.serialize(FieldSerializer)?));
        Ok(())
    }

    fn end(self) -> Result<Self::Ok, Unsupported> {
        Ok(self.0)
    }
}

impl ser::Serializer for RowSerializer {
    type Ok = Vec<(&'static str, Value)>;
    type Error = Unsupported;
    type SerializeSeq = Impossible<Self::Ok, Unsupported>;
    type SerializeTuple = Impossible<Self::Ok, Unsupported>;
    type SerializeTupleStruct = Impossible<Self::Ok, Unsupported>;
    type SerializeTupleVariant = Impossible<Self::Ok, Unsupported>;
    type SerializeMap = Impossible<Self::Ok, Unsupported>;
    type SerializeStruct = RowFields;
    type SerializeStructVariant = Impossible<Self::Ok, Unsupported>;

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<RowFields, Unsupported> {
        Ok(RowFields(Vec::with_capacity(len)))
    }

    refuse! {
        serialize_bool(bool) -> Self::Ok;
        serialize_i8(i8) -> Self::Ok;
        serialize_i16(i16) -> Self::Ok;
        serialize_i32(i32) -> Self::Ok;
        serialize_i64(i64) -> Self::Ok;
        serialize_u8(u8) -> Self::Ok;
        serialize_u16(u16) -> Self::Ok;
        serialize_u32(u32) -> Self::Ok;
        serialize_u64(u64) -> Self::Ok;
        serialize_f32(f32) -> Self::Ok;
        serialize_f64(f64) -> Self::Ok;
        serialize_char(char) -> Self::Ok;
        serialize_str(&str) -> Self::Ok;
        serialize_bytes(&[u8]) -> Self::Ok;
        serialize_none() -> Self::Ok;
        serialize_unit() -> Self::Ok;
        serialize_unit_struct(&'static str) -> Self::Ok;
        serialize_unit_variant(&'static str, u32, &'static str) -> Self::Ok;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
    refuse_lists_and_maps!();

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<Self::Ok, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, _: &T) -> Result<Self::Ok, Unsupported> {
        Err(Unsupported)
    }
}

/// One field, as `query::field_value` makes it from the field's JSON.
struct FieldSerializer;

impl FieldSerializer {
    /// A float as JSON holds it: a non-finite one is `null` there.
    fn float(v: f64) -> Value {
        if v.is_finite() {
            Value::Float(Some(v))
        } else {
            Value::Int(None)
        }
    }
}

impl ser::Serializer for FieldSerializer {
    type Ok = Value;
    type Error = Unsupported;
    type SerializeSeq = Impossible<Value, Unsupported>;
    type SerializeTuple = Impossible<Value, Unsupported>;
    type SerializeTupleStruct = Impossible<Value, Unsupported>;
    type SerializeTupleVariant = Impossible<Value, Unsupported>;
    type SerializeMap = Impossible<Value, Unsupported>;
    type SerializeStruct = Impossible<Value, Unsupported>;
    type SerializeStructVariant = Impossible<Value, Unsupported>;

    fn serialize_bool(self, v: bool) -> Result<Value, Unsupported> {
        Ok(Value::Bool(Some(v)))
    }
    ints! { serialize_i8(i8) serialize_i16(i16) serialize_i32(i32) serialize_u8(u8) serialize_u16(u16) serialize_u32(u32) }
    fn serialize_i64(self, v: i64) -> Result<Value, Unsupported> {
        Ok(Value::Int(Some(v)))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, Unsupported> {
        // Past i64, JSON's number is read as a real (`field_value`).
        Ok(i64::try_from(v).map_or(Value::Float(Some(v as f64)), |v| Value::Int(Some(v))))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Unsupported> {
        Ok(Self::float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Unsupported> {
        Ok(Self::float(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, Unsupported> {
        Ok(Value::Text(Some(v.to_string())))
    }
    fn serialize_str(self, v: &str) -> Result<Value, Unsupported> {
        Ok(Value::Text(Some(v.to_owned())))
    }
    fn serialize_none(self) -> Result<Value, Unsupported> {
        Ok(Value::Int(None))
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Value, Unsupported> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Unsupported> {
        Ok(Value::Int(None))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, Unsupported> {
        Ok(Value::Int(None))
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<Value, Unsupported> {
        Ok(Value::Text(Some(variant.to_owned())))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, value: &T) -> Result<Value, Unsupported> {
        value.serialize(self)
    }

    refuse! {
        serialize_bytes(&[u8]) -> Value;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
    refuse_lists_and_maps!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Scalars<'a> {
        id: i64,
        small: u8,
        text: &'a str,
        owned: String,
        flag: bool,
        none: Option<i64>,
        some: Option<&'a str>,
        real: f64,
        big: u64,
        nan: f64,
    }

    #[derive(Serialize)]
    struct Nested {
        id: i64,
        list: Vec<i64>,
    }

    /// What `Dialect::rows` bound before: the row's JSON, each field through `field_value`.
    fn through_json<T: Serialize>(row: &T) -> Vec<(String, Value)> {
        let serde_json::Value::Object(map) = serde_json::to_value(row).unwrap() else { panic!("not a struct") };
        let mut fields: Vec<_> = map.into_iter().map(|(k, v)| (k, super::super::field_value(v))).collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        fields
    }

    #[test]
    fn scalar_fields_bind_as_their_json_would() {
        let row = Scalars {
            id: -7,
            small: 200,
            text: "a 'quoted' text",
            owned: "é".into(),
            flag: true,
            none: None,
            some: Some("x"),
            real: 1.5,
            big: u64::MAX,
            nan: f64::NAN,
        };
        let mut direct: Vec<(String, Value)> =
            fields(&row).expect("scalars").into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        direct.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(format!("{direct:?}"), format!("{:?}", through_json(&row)));
        assert!(matches!(direct.iter().find(|(k, _)| k == "big"), Some((_, Value::Float(Some(_))))));
    }

    #[test]
    fn a_row_with_a_nested_field_is_left_to_json() {
        assert!(fields(&Nested { id: 1, list: vec![1, 2] }).is_none());
        assert!(fields(&5_i64).is_none());
    }
}
