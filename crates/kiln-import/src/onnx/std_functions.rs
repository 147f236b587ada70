//! The function bodies ONNX defines for its function-defined ops (`std_functions.pb`,
//! generated from the pinned onnx wheel by `tests/onnx_node/gen_functions.py`), so that an op
//! kiln has no lowering for — or an op version outside the ones it implements — is imported
//! through ONNX's own definition ([`super::functions`] inlines the body), and so that
//! `--kiln-onnx-expand-functions` can check kiln's lowerings against those definitions.
//!
//! Each body is named `OP:VERSION` (the op version it defines) and imports the opset its nodes
//! are written for; an op version may have bodies for several opsets. Bodies that depend on
//! the input types (ONNX's context-dependent functions) are not in the table.

use super::proto::{FunctionProto, ModelProto};
use prost::Message;
use std::sync::OnceLock;

/// The table, as the generator wrote it.
const TABLE: &[u8] = include_bytes!("std_functions.pb");

fn table() -> &'static [FunctionProto] {
    static FUNCTIONS: OnceLock<Vec<FunctionProto>> = OnceLock::new();
    FUNCTIONS.get_or_init(|| {
        ModelProto::decode(TABLE)
            .map(|m| m.functions)
            .unwrap_or_default()
    })
}

/// The opset a body's nodes are written for.
fn body_opset(f: &FunctionProto) -> i64 {
    f.opset_import
        .iter()
        .find(|o| matches!(o.domain.as_deref().unwrap_or(""), "" | "ai.onnx"))
        .and_then(|o| o.version)
        .unwrap_or(0)
}

/// The body ONNX defines for version `version` of `op`, written for the newest opset up to
/// the model's `opset` (or the oldest there is, when every body is newer).
pub(crate) fn standard_function(
    op: &str,
    version: i64,
    opset: i64,
) -> Option<&'static FunctionProto> {
    let name = format!("{op}:{version}");
    let bodies = table()
        .iter()
        .filter(|f| f.name.as_deref() == Some(name.as_str()));
    let (fitting, newer): (Vec<_>, Vec<_>) = bodies.partition(|f| body_opset(f) <= opset);
    fitting
        .into_iter()
        .max_by_key(|f| body_opset(f))
        .or_else(|| newer.into_iter().min_by_key(|f| body_opset(f)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_decodes_and_picks_the_body_for_the_models_opset() {
        assert!(table().len() >= 40, "{} bodies", table().len());
        // MeanVarianceNormalization 13 has bodies written for opsets 13 and 18.
        let at =
            |opset| body_opset(standard_function("MeanVarianceNormalization", 13, opset).unwrap());
        assert_eq!((at(13), at(17), at(18), at(21)), (13, 13, 18, 18));
        // Elu 6's only body is written for opset 18; a model at opset 10 still gets it.
        assert_eq!(body_opset(standard_function("Elu", 6, 10).unwrap()), 18);
        assert!(standard_function("Conv", 11, 21).is_none());
    }
}
