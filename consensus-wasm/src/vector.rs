//! The `yuma-epoch-vector/v1` file: one subnet, one mechanism, one epoch, with the input the
//! chain read and (optionally) what it persisted. See `shared/vectors/yuma/SCHEMA.md`.

use crate::input::EpochInput;
use crate::output::EpochOutput;
use crate::v103::{SCHEMA_V103, VectorFileV103};
use serde::{Deserialize, Serialize};
use std::fmt;

pub const SCHEMA_V1: &str = "yuma-epoch-vector/v1";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VectorFile {
    pub schema: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub input: EpochInput,
    #[serde(default)]
    pub expected: Option<EpochOutput>,
}

/// Why a file is not a usable epoch vector. Messages name the JSON path of the bad value.
#[derive(Debug)]
pub enum VectorError {
    /// Not JSON, or a value of the wrong type or range at `path`.
    Json { path: String, message: String },
    /// A `schema` this engine does not read.
    UnknownSchema(String),
}

impl fmt::Display for VectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VectorError::Json { path, message } if path.is_empty() || path == "." => {
                write!(f, "{message}")
            }
            VectorError::Json { path, message } => write!(f, "{path}: {message}"),
            VectorError::UnknownSchema(s) => {
                write!(
                    f,
                    "schema: \"{s}\" is not supported (this engine reads \"{SCHEMA_V1}\" and \
                     \"{SCHEMA_V103}\")"
                )
            }
        }
    }
}

impl std::error::Error for VectorError {}

impl VectorFile {
    /// Parses a vector file. Integer fields keep their exact width (`tao_weight` is a u64 that a
    /// JS Number cannot hold, which is why the browser parses files here and not in JS).
    pub fn from_json(text: &str) -> Result<Self, VectorError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let file: VectorFile =
            serde_path_to_error::deserialize(de).map_err(|e| VectorError::Json {
                path: e.path().to_string(),
                message: without_position(e.inner().to_string()),
            })?;
        if file.schema != SCHEMA_V1 {
            return Err(VectorError::UnknownSchema(file.schema));
        }
        Ok(file)
    }
}

/// A vector file of either schema: today's epoch (`v1`) or the spec-103 epoch (`v103`). The
/// `schema` field selects.
#[derive(Clone, Debug)]
pub enum AnyVector {
    V1(VectorFile),
    V103(VectorFileV103),
}

impl AnyVector {
    pub fn from_json(text: &str) -> Result<Self, VectorError> {
        #[derive(Deserialize)]
        struct Schema {
            schema: String,
        }
        let schema: Schema = serde_json::from_str(text).map_err(|e| VectorError::Json {
            path: "schema".into(),
            message: without_position(e.to_string()),
        })?;
        match schema.schema.as_str() {
            SCHEMA_V1 => VectorFile::from_json(text).map(AnyVector::V1),
            SCHEMA_V103 => {
                let de = &mut serde_json::Deserializer::from_str(text);
                serde_path_to_error::deserialize(de)
                    .map(AnyVector::V103)
                    .map_err(|e| VectorError::Json {
                        path: e.path().to_string(),
                        message: without_position(e.inner().to_string()),
                    })
            }
            _ => Err(VectorError::UnknownSchema(schema.schema)),
        }
    }
}

/// serde_json appends " at line L column C"; the JSON path is the more useful locator.
fn without_position(message: String) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    }
}
