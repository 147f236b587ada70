//! The VMVX kernels' text form, as `--compile-to=hal` prints them.

use super::*;
use alloc::format;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec::Vec;

/// `#binding[shape]`, then `+offset` and `/strides` when they are not the contiguous default:
/// `#2[8x512]`, `#0[4x16x32]/512,1,16`.
impl<Z: Sizes> core::fmt::Display for View<Z> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let shape: Vec<String> = self.shape.iter().map(Z::extent_text).collect();
        write!(
            f,
            "#{}[{}x{}]",
            self.binding,
            shape.join("x"),
            self.element_type
        )?;
        if !Z::extent_is(&self.offset, 0) {
            write!(f, "+{}", Z::extent_text(&self.offset))?;
        }
        if !self.is_contiguous() {
            let strides: Vec<String> = self.strides.iter().map(Z::stride_text).collect();
            write!(f, "/{}", strides.join(","))?;
        }
        Ok(())
    }
}

/// One line per kernel: its op, views and tiling, then the epilogue if any.
impl<Z: Sizes> core::fmt::Display for Kernel<Z> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let list = |vs: &[View<Z>]| {
            vs.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        // Tiles not chosen yet (a kernel whose sizes are known only at run time) print as
        // `per_call`.
        let dims = |v: &[u64]| {
            if !v.is_empty() && v.iter().all(|&d| d == 0) {
                return "per_call".to_string();
            }
            v.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("x")
        };
        let extents = |v: &[Z::Extent]| v.iter().map(Z::extent_text).collect::<Vec<_>>().join("x");
        // An output the product is added to: `-> +#2[...]`.
        let accumulating = |accumulate: bool| if accumulate { "+" } else { "" };
        let epilogue = |e: &Option<Epilogue<Z>>| match e {
            Some(e) => format!(" epilogue({}) {}", list(&e.inputs), e.body),
            None => String::new(),
        };
        write!(f, "{} = ", self.name)?;
        match &self.op {
            KernelOp::Generic { shape, tile, reduction_dims, reduce, inputs, outputs, body } => {
                let red = if *reduction_dims > 0 { format!(" reduce {reduce} over last {reduction_dims}") } else { String::new() };
                write!(f, "generic [{}] tile [{}]{red} ({}) -> ({}) {body}", extents(shape), dims(tile), list(inputs), list(outputs))
            }
            KernelOp::MatMul { a, b, c, tile_m, tile_n, accumulate, epilogue: e } => write!(f, "matmul {a}, {b} -> {}{c} tile {}{}", accumulating(*accumulate), dims(&[*tile_m, *tile_n]), epilogue(e)),
            KernelOp::Conv2d { x, w, y, strides, pads, dilations, groups, gemm, tile_co, tile_oh, accumulate, epilogue: e } => write!(
                f,
                "conv2d {x}, {w} -> {}{y} strides {strides:?} pads {pads:?} dilations {dilations:?} groups {groups}{} tile {}{}",
                accumulating(*accumulate),
                match gemm {
                    ConvGemm::ChannelRows => "",
                    ConvGemm::PixelRows => " pixel_rows",
                    ConvGemm::ChannelQuads => " channel_quads",
                },
                dims(&[*tile_co, *tile_oh]),
                epilogue(e)
            ),
            KernelOp::PointwiseDepthwise { x, expand, steps, w, y, strides, pads, dilations, tile_co, tile_oh, epilogue: e } => write!(
                f,
                "pointwise_depthwise {x}, {expand}, {w} -> {y} strides {strides:?} pads {pads:?} dilations {dilations:?} tile {}{}{}",
                dims(&[*tile_co, *tile_oh]),
                epilogue(steps).replacen("epilogue", "steps", 1),
                epilogue(e)
            ),
            KernelOp::Pool2d { x, y, max, kernel, strides, pads, count_include_pad, epilogue: e } => write!(
                f,
                "pool2d {} {x} -> {y} kernel {kernel:?} strides {strides:?} pads {pads:?}{}{}",
                if *max { "max" } else { "avg" },
                if *count_include_pad { " count_include_pad" } else { "" },
                epilogue(e)
            ),
            KernelOp::Softmax { x, y, epilogue: e } => write!(f, "softmax {x} -> {y}{}", epilogue(e)),
            KernelOp::LayerNorm { x, y, epsilon, epilogue: e } => write!(f, "layer_norm {x} -> {y} epsilon {epsilon:?}{}", epilogue(e)),
            KernelOp::Gather { data, indices, out } => write!(f, "gather {data}, {indices} -> {out}"),
            KernelOp::Attention { q, k, v, out, scores, tile_m } => write!(f, "attention {q}, {k}, {v} -> {out} tile {}{}", dims(&[*tile_m]), epilogue(scores).replacen("epilogue", "scores", 1)),
            KernelOp::ConvBand { x, y, kernel, strides, pads, dilations, out } => write!(f, "conv_band {x} -> {y} kernel {kernel:?} strides {strides:?} pads {pads:?} dilations {dilations:?} out {out:?}"),
            KernelOp::Recurrent { proj, weights, h0, c0, biases, y, cell } => write!(f, "recurrent {proj}, {weights}, {h0}, {c0}, {biases} -> {y} cell {cell}"),
        }
    }
}

impl Kernel {
    /// The kernel in a few words: `name: op -> outputs` (`dispatch_4: conv2d ->
    /// 1x40x112x112xi8`), for per-dispatch statistics.
    pub fn summary(&self) -> String {
        let op = match &self.op {
            KernelOp::Generic {
                reduction_dims: 0, ..
            } => "elementwise",
            KernelOp::Generic { .. } => "reduction",
            KernelOp::MatMul { .. } => "matmul",
            KernelOp::Conv2d { .. } => "conv2d",
            KernelOp::PointwiseDepthwise { .. } => "pointwise_depthwise",
            KernelOp::Pool2d { .. } => "pool2d",
            KernelOp::ConvBand { .. } => "conv_band",
            KernelOp::Softmax { .. } => "softmax",
            KernelOp::LayerNorm { .. } => "layer_norm",
            KernelOp::Gather { .. } => "gather",
            KernelOp::Attention { .. } => "attention",
            KernelOp::Recurrent { .. } => "recurrent",
        };
        let outputs: Vec<String> = self
            .outputs()
            .iter()
            .map(|v| {
                let dims: Vec<String> = v.shape.iter().map(|d| d.to_string()).collect();
                format!("{}x{}", dims.join("x"), v.element_type)
            })
            .collect();
        let integer = if self.op.is_integer_product() {
            " (int8)"
        } else {
            ""
        };
        format!("{}: {op}{integer} -> {}", self.name, outputs.join(", "))
    }
}
