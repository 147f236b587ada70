//! Which version of an op a model's opset means, and which versions kiln implements.
//!
//! An ONNX opset number selects, for each op, the newest definition introduced at or before
//! it ([`op_version`], from the generated table in `versions.rs`). kiln implements each op
//! from the version in force at opset 7 (or the op's first version, if it is younger) to the
//! version in force at opset 21, plus the later versions listed in [`LATER`], whose changes
//! (new element types, a clarification) leave what kiln computes unchanged, or which are the
//! versions kiln implements of an op ONNX introduced after opset 21 (Attention 23 to 25: 24
//! adds `nonpad_kv_seqlen`, 25 sliding windows, and the builder reads both; RotaryEmbedding
//! 23; SwiGLU 28; CausalConvWithState and LinearAttention 27; BitCast 26; CumProd 26; TensorScatter 24; Range 27,
//! whose f16/bf16 stash type kiln takes at its default, f32). A node whose op
//! version falls outside that window is an error naming the op, node and version; there is no
//! global opset cap below the newest opset the table knows.

use super::versions::{DEPRECATED, NEWEST_OPSET, SINCE};

/// Later op versions kiln implements, each checked against the onnx wheel's schemas: the same
/// attributes, inputs and outputs, and a description whose only change kiln does not reach
/// (element types it does not have; MaxPool/AveragePool's note on `ceil_mode`, which kiln
/// refuses; SpaceToDepth's new `mode`, whose default is the old order and which the builder
/// reads; Mod's float `fmod=0`, which the builder computes as 28 defines it; Cast's
/// `round_mode` for float8e8m0 and its float4/8 types, which the builder converts, and its float6
/// types, which kiln does not have; BitShift 28's
/// signed types, shifted right arithmetically, and its amounts outside the type's width,
/// which shift every bit out as kiln's shifts do; QuantizeLinear 23's `precision` and
/// DequantizeLinear 23's `output_dtype`, which the builders read, and both ops' and
/// QLinearMatMul's later float4/6/8 and 2/4-bit types; ReverseSequence 28's, Compress 28's, Unique 28's, RoiAlign 22's, TopK 24's, OneHot 28's, DeformConv 22's and Det 22's bfloat16).
const LATER: &[(&str, i64)] = &[
    ("Acos", 22),
    ("Acosh", 22),
    ("Asin", 22),
    ("Asinh", 22),
    ("Atan", 22),
    ("Atanh", 22),
    ("Attention", 25),
    ("AveragePool", 22),
    ("BitCast", 26),
    ("BitShift", 28),
    ("Cast", 28),
    ("CastLike", 25),
    ("CausalConvWithState", 27),
    ("Celu", 28),
    ("Compress", 28),
    ("Constant", 25),
    ("ConstantOfShape", 25),
    ("Conv", 22),
    ("ConvTranspose", 22),
    ("Cos", 22),
    ("Cosh", 22),
    ("CumProd", 26),
    ("DeformConv", 22),
    ("DepthToSpace", 28),
    ("DequantizeLinear", 28),
    ("Det", 22),
    ("Dropout", 22),
    ("Einsum", 28),
    ("Elu", 22),
    ("EyeLike", 22),
    ("Flatten", 25),
    ("GRU", 22),
    ("GlobalAveragePool", 22),
    ("GlobalMaxPool", 22),
    ("GridSample", 22),
    ("HardSigmoid", 22),
    ("HardSwish", 22),
    ("Identity", 25),
    ("InstanceNormalization", 22),
    ("LSTM", 22),
    ("LinearAttention", 27),
    ("LpNormalization", 22),
    ("LpPool", 22),
    ("MaxPool", 22),
    ("MaxUnpool", 22),
    ("Mish", 22),
    ("Mod", 28),
    ("NegativeLogLikelihoodLoss", 22),
    ("OneHot", 28),
    ("Pad", 25),
    ("QLinearMatMul", 21),
    ("QuantizeLinear", 28),
    ("RMSNormalization", 23),
    ("RNN", 22),
    ("Range", 27),
    ("ReduceLogSum", 28),
    ("ReduceLogSumExp", 28),
    ("Reshape", 25),
    ("ReverseSequence", 28),
    ("RoiAlign", 22),
    ("RotaryEmbedding", 23),
    ("Round", 22),
    ("Selu", 22),
    ("Shape", 25),
    ("Sin", 22),
    ("Sinh", 22),
    ("Size", 25),
    ("Softplus", 22),
    ("Softsign", 22),
    ("SpaceToDepth", 28),
    ("Squeeze", 25),
    ("SwiGLU", 28),
    ("Swish", 24),
    ("Tan", 22),
    ("TensorScatter", 24),
    ("ThresholdedRelu", 22),
    ("TopK", 24),
    ("Transpose", 25),
    ("Unique", 28),
    ("Unsqueeze", 25),
];

/// The newest opset the version table knows.
pub(crate) fn newest_opset() -> i64 {
    NEWEST_OPSET
}

/// The version of `op` in force at `opset`, if ONNX's default domain defines the op by then.
pub(crate) fn op_version(op: &str, opset: i64) -> Option<i64> {
    let (_, versions) = SINCE.iter().find(|(name, _)| *name == op)?;
    versions.iter().copied().filter(|&v| v <= opset).max()
}

/// The op versions kiln implements for `op`, as `(oldest, newest)`.
pub(crate) fn implemented(op: &str) -> Option<(i64, i64)> {
    let (_, versions) = SINCE.iter().find(|(name, _)| *name == op)?;
    // Deprecated definitions are never implemented: the window starts after the last one.
    let after_deprecated = DEPRECATED
        .iter()
        .filter(|(name, _)| *name == op)
        .filter_map(|&(_, v)| versions.iter().copied().find(|&w| w > v))
        .max();
    let oldest = op_version(op, 7)
        .unwrap_or(versions[0])
        .max(after_deprecated.unwrap_or(0));
    let newest = LATER
        .iter()
        .find(|(name, _)| *name == op)
        .map(|&(_, v)| v)
        .or_else(|| op_version(op, 21))
        .unwrap_or(oldest - 1);
    Some((oldest, newest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_the_opset() {
        assert_eq!(op_version("Softmax", 12), Some(11));
        assert_eq!(op_version("Softmax", 28), Some(13));
        assert_eq!(op_version("Not", 1), Some(1));
        assert_eq!(op_version("Gelu", 19), None);
        assert_eq!(implemented("Add"), Some((7, 14)));
        assert_eq!(implemented("Conv"), Some((1, 22)));
        assert_eq!(implemented("Gelu"), Some((20, 20)));
        // Range 27 adds a stash type for f16/bf16, whose default (f32) is how kiln computes.
        assert_eq!(implemented("Range"), Some((11, 27)));
        assert!(LATER
            .iter()
            .all(|(op, _)| SINCE.iter().any(|(o, _)| o == op)));
        assert!(LATER.windows(2).all(|w| w[0].0 < w[1].0), "LATER is sorted");
    }

    /// Every op kiln builds has a non-empty window of versions, so no op version is ever
    /// accepted unreviewed (an op ONNX introduced after opset 21 needs a `LATER` entry).
    #[test]
    fn every_built_op_has_versions() {
        for (op, _) in SINCE {
            if crate::onnx::ops::builder(op).is_some() {
                let (oldest, newest) = implemented(op).unwrap();
                assert!(oldest <= newest, "{op}: {oldest} > {newest}");
            }
        }
    }
}
