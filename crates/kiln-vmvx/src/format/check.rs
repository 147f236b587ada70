//! Load-time validation of VMVX kernels: every view, window, packing and body is checked once,
//! when an executable is decoded, so workgroup code may assume them.

use super::*;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

/// Most scores an attention workgroup may hold (256 MiB of f32): a crafted row tile would
/// otherwise have a workgroup allocate without bound.
#[cfg(feature = "dynamic-matmul")]
const MAX_ATTENTION_SCORES: u64 = 1 << 26;

/// Most pointwise results a fused pointwise and depthwise workgroup may hold (256 MiB of f32),
/// for the same reason.
#[cfg(feature = "conv")]
const MAX_POINTWISE_SCRATCH: u64 = 1 << 26;

impl Kernel {
    /// Structural checks done once when an executable is loaded.
    pub fn check(&self) -> Result<(), String> {
        if let Some((what, feature)) = self.op.left_out() {
            return Err(kiln_types::message!(
                "{what} is not in this build (kiln-vmvx feature `{feature}`)"
            ));
        }
        for v in self.views() {
            if v.shape.len() != v.strides.len() {
                return Err("a view's shape and strides differ in rank".into());
            }
        }
        // Workgroups write disjoint boxes of each output, which must therefore be disjoint
        // memory; and no input may read what the kernel writes. Format version 10: a generic
        // kernel's input may read bytes of a binding apart from those it writes (a concat's
        // slice beside the one it computes); named ops read their inputs as whole bindings.
        let skip = match &self.op {
            KernelOp::Generic { reduction_dims, .. } => *reduction_dims as usize,
            _ => 0,
        };
        let outputs = self.outputs();
        if outputs.iter().any(|v| !v.is_injective(skip)) {
            return Err("an output view addresses some element twice".into());
        }
        for (i, o) in outputs.iter().enumerate() {
            if outputs[..i].iter().any(|p| p.binding == o.binding) {
                return Err(kiln_types::message!(
                    "two outputs write binding {}",
                    o.binding
                ));
            }
        }
        let generic = matches!(self.op, KernelOp::Generic { .. });
        // Byte ranges, `Some(None)` for an empty view, `None` on overflow.
        let bytes = |x: &View| -> Option<Option<(i64, i64)>> {
            let size = x.element_type.byte_size() as i64;
            match x.span().ok()? {
                Some((lo, hi)) => Some(Some((lo.checked_mul(size)?, hi.checked_mul(size)?))),
                None => Some(None),
            }
        };
        for v in self.views() {
            let is_output = outputs.iter().any(|o| core::ptr::eq(*o, v));
            let apart = |o: &View| match (bytes(v), bytes(o)) {
                _ if !generic => false,
                (Some(Some(r)), Some(Some(w))) => r.1 <= w.0 || w.1 <= r.0,
                (Some(None), Some(_)) | (Some(_), Some(None)) => true,
                _ => false,
            };
            if !is_output && outputs.iter().any(|o| o.binding == v.binding && !apart(o)) {
                return Err(kiln_types::message!(
                    "binding {} is read where it is written",
                    v.binding
                ));
            }
        }
        let f32_only = |vs: &[&View]| -> Result<(), String> {
            match vs.iter().find(|v| v.element_type != ElementType::F32) {
                Some(v) => Err(kiln_types::message!(
                    "this kernel needs f32 data, got {}",
                    v.element_type
                )),
                None => Ok(()),
            }
        };
        let rank = |v: &View, r: usize| {
            if v.shape.len() == r {
                Ok(())
            } else {
                Err(kiln_types::message!("expected a rank-{r} view"))
            }
        };
        let contiguous = |v: &View| {
            if v.is_contiguous() {
                Ok(())
            } else {
                Err("expected a contiguous view".to_string())
            }
        };
        // Coordinates exist along the dims a body runs over.
        let coordinates = |body: &Body, rank: usize| -> Result<(), String> {
            match body.insts.iter().find_map(|i| match i {
                Inst::Index(n) if *n as usize >= rank => Some(*n),
                _ => None,
            }) {
                Some(n) => Err(kiln_types::message!(
                    "a body reads coordinate {n} of a rank-{rank} domain"
                )),
                None => Ok(()),
            }
        };
        // An epilogue reads the op's result (of type `result`) and stores `out`'s type.
        let typed_epilogue = |e: &Option<Epilogue>, out: &View, result: ElementType| {
            let Some(e) = e else { return Ok(()) };
            coordinates(&e.body, out.shape.len())?;
            let mut types = vec![result];
            for v in &e.inputs {
                if v.shape != out.shape {
                    return Err("epilogue inputs must have the output's shape".into());
                }
                types.push(v.element_type);
            }
            e.body
                .check(&types, &[out.element_type])
                .map(|_| ())
                .map_err(|e| kiln_types::message!("{e}"))
        };
        let epilogue = |e: &Option<Epilogue>, out: &View| typed_epilogue(e, out, out.element_type);
        match &self.op {
            KernelOp::Generic {
                shape,
                tile,
                reduction_dims,
                inputs,
                outputs,
                body,
                ..
            } => {
                if tile.len() != shape.len()
                    || *reduction_dims as usize > shape.len()
                    || tile.contains(&0)
                {
                    return Err("generic tile or reduction dims do not fit its shape".into());
                }
                for v in inputs.iter().chain(outputs) {
                    if v.shape != *shape {
                        return Err("generic views must have the iteration shape".into());
                    }
                }
                if *reduction_dims > 0 && body.results.len() != 1 {
                    return Err("a reduction yields exactly one value".into());
                }
                let it: Vec<_> = inputs.iter().map(|v| v.element_type).collect();
                let ot: Vec<_> = outputs.iter().map(|v| v.element_type).collect();
                body.check(&it, &ot)
                    .map_err(|e| kiln_types::message!("{e}"))?;
                coordinates(body, shape.len())?;
            }
            KernelOp::MatMul {
                a,
                b,
                c,
                tile_m,
                tile_n,
                accumulate,
                epilogue: e,
            } => {
                if *accumulate && self.op.is_integer_product() {
                    return Err("an integer matmul does not accumulate".into());
                }
                #[cfg(feature = "quantized")]
                if self.op.is_integer_product() {
                    check_integer_matmul(&self.op)?;
                    if e.is_none() && c.element_type != ElementType::I32 {
                        return Err("an integer matmul without an epilogue stores i32".into());
                    }
                    typed_epilogue(e, c, ElementType::I32)?;
                    return Ok(());
                }
                f32_only(&[a, b, c])?;
                for v in [a, c] {
                    rank(v, 3)?;
                }
                let (k, n) = (a.shape[2], c.shape[2]);
                let b_agrees = if b.shape.len() == 4 {
                    // Packed right-hand strips [B, ceil(N/nr), K, nr].
                    let nr = packing(&self.op)
                        .filter(|p| p.is_known())
                        .ok_or("matmul operand is packed for an unknown tile shape")?
                        .strip() as u64;
                    contiguous(b)?;
                    if tile_n % nr != 0 {
                        return Err("a packed matmul's column tile must be whole strips".into());
                    }
                    b.shape[1] == n.div_ceil(nr) && b.shape[2] == k
                } else {
                    rank(b, 3)?;
                    b.shape[1] == k && b.shape[2] == n
                };
                if a.shape[0] != c.shape[0]
                    || a.shape[1] != c.shape[1]
                    || !b_agrees
                    || b.shape[0] != c.shape[0]
                {
                    return Err("matmul shapes do not agree".into());
                }
                if a.strides.iter().chain(&b.strides).any(|&s| s < 0)
                    || c.strides[2] != 1
                    || c.strides[1] < c.shape[2] as i64
                {
                    return Err(
                        "matmul views need non-negative strides and unit-stride output rows".into(),
                    );
                }
                if *tile_m == 0 || *tile_n == 0 {
                    return Err("matmul tiles must be positive".into());
                }
                epilogue(e, c)?;
            }
            #[cfg(feature = "conv")]
            KernelOp::Conv2d {
                x,
                w,
                y,
                strides,
                pads,
                dilations,
                groups,
                gemm,
                tile_co,
                tile_oh,
                accumulate,
                epilogue: e,
            } => {
                #[cfg(feature = "quantized")]
                if [x.element_type, w.element_type] == [ElementType::U8, ElementType::I8] {
                    if *accumulate {
                        return Err("an integer conv2d does not accumulate".into());
                    }
                    check_integer_conv(&self.op)?;
                    if e.is_none() && y.element_type != ElementType::I32 {
                        return Err("an integer conv2d without an epilogue stores i32".into());
                    }
                    typed_epilogue(e, y, ElementType::I32)?;
                    return Ok(());
                }
                f32_only(&[x, w, y])?;
                rank(y, 4)?;
                let channels_last = [x, y].map(View::is_channels_last);
                if !(channels_last[0] && w.is_tap_major()) {
                    contiguous(w)?;
                }
                for (v, cl) in [x, y].into_iter().zip(channels_last) {
                    if !cl {
                        contiguous(v)?;
                    }
                }
                if *groups == 0 || y.shape[1] % groups != 0 {
                    return Err("conv2d channels do not agree".into());
                }
                if channels_last.contains(&true) {
                    // Pixel rows read and write either layout; a depthwise convolution reads
                    // and writes channels-last images whole, every channel in each workgroup.
                    let depthwise = self.op.is_depthwise_conv()
                        && channels_last == [true, true]
                        && *tile_co >= y.shape[1];
                    if *gemm != ConvGemm::PixelRows && !depthwise {
                        let why = "a channels-last conv2d has pixel rows, or is depthwise";
                        return Err(why.into());
                    }
                }
                let [cig, kh, kw] = conv_weight_dims(w);
                if !window_in_bounds([kh, kw], *strides, *pads, *dilations) {
                    return Err("conv2d window is invalid or too large".into());
                }
                let x_agrees = if x.shape.len() == 1 {
                    // The output of a ConvBand for this window.
                    let win = window([kh, kw], *strides, *pads, *dilations);
                    let [n, oh, ow] = [y.shape[0], y.shape[2], y.shape[3]];
                    let len = conv_band_len(&win, [n, cig.saturating_mul(*groups), oh, ow]);
                    w.shape.len() == 6 && *gemm == ConvGemm::ChannelRows && Some(x.shape[0]) == len
                } else {
                    rank(x, 4)?;
                    // A workgroup lays out the input band of its rows.
                    let win = window([kh, kw], *strides, *pads, *dilations);
                    let band = band_layout(&win, (*tile_oh).min(y.shape[2]), y.shape[3])
                        .map(|layout| band_channel_len(&layout));
                    let plane = x.shape[2].saturating_mul(x.shape[3]);
                    if !band.is_some_and(|b| band_in_proportion(b, cig, cig.saturating_mul(plane)))
                    {
                        return Err("conv2d window reads far more padding than input".into());
                    }
                    x.shape[0] == y.shape[0] && cig.checked_mul(*groups) == Some(x.shape[1])
                };
                if !x_agrees {
                    return Err("conv2d input does not agree with its weights and output".into());
                }
                let cog = y.shape[1] / groups;
                let w_agrees = if w.shape.len() == 6 {
                    // Packed strips [groups, ceil(cog/s), ci/groups, kh, kw, s].
                    let strip = packing(&self.op)
                        .filter(|p| p.is_known())
                        .ok_or("conv2d weights are packed for an unknown tile shape")?
                        .strip() as u64;
                    if tile_co % strip != 0 {
                        return Err("a packed conv2d's channel tile must be whole strips".into());
                    }
                    w.shape[0] == *groups && w.shape[1] == cog.div_ceil(strip)
                } else if *gemm == ConvGemm::PixelRows {
                    return Err("a conv2d with pixel rows needs packed weights".into());
                } else if *accumulate {
                    return Err("a conv2d that accumulates needs packed weights".into());
                } else {
                    rank(w, 4)?;
                    w.shape[0] == y.shape[1]
                };
                if !w_agrees {
                    return Err("conv2d channels do not agree".into());
                }
                if strides.contains(&0) || dilations.contains(&0) || *tile_oh == 0 || *tile_co == 0
                {
                    return Err("conv2d strides, dilations and tiles must be positive".into());
                }
                epilogue(e, y)?;
            }
            #[cfg(feature = "conv")]
            KernelOp::PointwiseDepthwise {
                x,
                expand,
                steps,
                w,
                y,
                strides,
                pads,
                dilations,
                tile_co,
                tile_oh,
                epilogue: e,
            } => {
                f32_only(&[x, expand, w, y])?;
                for v in [x, w, y] {
                    rank(v, 4)?;
                }
                for v in [x, expand, w, y] {
                    contiguous(v)?;
                }
                let [n, ci, h, wd] = x.shape[..] else {
                    unreachable!()
                };
                let [_, c, oh, ow] = y.shape[..] else {
                    unreachable!()
                };
                let [kh, kw] = [w.shape[2], w.shape[3]];
                if !window_in_bounds([kh, kw], *strides, *pads, *dilations) {
                    return Err("pointwise_depthwise window is invalid or too large".into());
                }
                if *tile_oh == 0 || *tile_co == 0 {
                    return Err("pointwise_depthwise tiles must be positive".into());
                }
                let strip = packing(&self.op)
                    .filter(|p| p.is_known())
                    .ok_or("pointwise weights are packed for an unknown tile shape")?
                    .strip() as u64;
                if expand.shape != [1, c.div_ceil(strip), ci, 1, 1, strip]
                    || w.shape[..2] != [c, 1]
                    || y.shape[0] != n
                    || tile_co % strip != 0
                {
                    return Err("pointwise_depthwise views do not agree".into());
                }
                let span = WindowSpan {
                    kernel: [kh, kw],
                    strides: *strides,
                    dilations: *dilations,
                };
                if !span.outputs_agree(*pads, [h, wd], [oh, ow]) {
                    return Err("pointwise_depthwise output size does not match its window".into());
                }
                // A workgroup's scratch holds the pointwise rows its output rows read.
                let scratch = span
                    .reach(0, (*tile_oh).min(oh))
                    .min(h)
                    .saturating_mul(wd)
                    .saturating_mul((*tile_co).min(c.next_multiple_of(strip)));
                if scratch > MAX_POINTWISE_SCRATCH {
                    return Err("a pointwise_depthwise tile holds too many values".into());
                }
                if let Some(s) = steps {
                    if ChannelSteps::of(&s.body, s.inputs.len()).is_none() {
                        return Err("pointwise steps are not a bias and a clamp".into());
                    }
                    let per_channel = |v: &View| {
                        v.shape == [n, c, h, wd]
                            && v.element_type == ElementType::F32
                            && v.strides[2..] == [0, 0]
                            && v.strides[..2].iter().all(|&s| s >= 0)
                    };
                    if !s.inputs.iter().all(per_channel) {
                        return Err("a pointwise bias must be f32, one value per channel".into());
                    }
                }
                epilogue(e, y)?;
            }
            #[cfg(feature = "conv")]
            KernelOp::Pool2d {
                x,
                y,
                kernel,
                strides,
                epilogue: e,
                ..
            } => {
                f32_only(&[x, y])?;
                for v in [x, y] {
                    rank(v, 4)?;
                }
                // Both planar, or both channels-last.
                if !(x.is_channels_last() && y.is_channels_last()) {
                    contiguous(x)?;
                    contiguous(y)?;
                }
                if kernel.contains(&0) || strides.contains(&0) || x.shape[..2] != y.shape[..2] {
                    return Err("pool2d window or shapes are invalid".into());
                }
                epilogue(e, y)?;
            }
            KernelOp::Softmax { x, y, epilogue: e } => {
                f32_only(&[x, y])?;
                rank(x, 3)?;
                contiguous(y)?;
                if x.shape != y.shape {
                    return Err("softmax views differ in shape".into());
                }
                epilogue(e, y)?;
            }
            #[cfg(feature = "layer-norm")]
            KernelOp::LayerNorm {
                x, y, epilogue: e, ..
            } => {
                f32_only(&[x, y])?;
                rank(x, 2)?;
                contiguous(x)?;
                contiguous(y)?;
                if x.shape != y.shape {
                    return Err("layer norm views differ in shape".into());
                }
                epilogue(e, y)?;
            }
            #[cfg(feature = "conv")]
            KernelOp::ConvBand {
                x,
                y,
                kernel,
                strides,
                pads,
                dilations,
                out,
            } => {
                f32_only(&[x, y])?;
                rank(x, 4)?;
                rank(y, 1)?;
                for v in [x, y] {
                    contiguous(v)?;
                }
                if !window_in_bounds(*kernel, *strides, *pads, *dilations) {
                    return Err("conv_band window is invalid".into());
                }
                let win = window(*kernel, *strides, *pads, *dilations);
                let [n, c] = [x.shape[0], x.shape[1]];
                let len = conv_band_len(&win, [n, c, out[0], out[1]]);
                let input = x.shape.iter().fold(1u64, |a, &d| a.saturating_mul(d));
                if len.is_none_or(|len| !band_in_proportion(len as u128, 1, input)) {
                    return Err("conv_band window is invalid".into());
                }
                if Some(y.shape[0]) != len {
                    return Err("conv_band output does not hold the layout".into());
                }
            }
            #[cfg(feature = "gather")]
            KernelOp::Gather { data, indices, out } => {
                rank(data, 3)?;
                rank(indices, 1)?;
                rank(out, 3)?;
                contiguous(out)?;
                if !matches!(indices.element_type, ElementType::I32 | ElementType::I64)
                    || data.element_type != out.element_type
                {
                    return Err("gather needs integer indices and matching data types".into());
                }
                if out.shape != [data.shape[0], indices.shape[0], data.shape[2]] {
                    return Err("gather shapes do not agree".into());
                }
            }
            #[cfg(feature = "dynamic-matmul")]
            KernelOp::Attention {
                q,
                k,
                v,
                out,
                scores,
                tile_m,
            } => {
                f32_only(&[q, k, v, out])?;
                for x in [q, k, v, out] {
                    rank(x, 3)?;
                }
                let [b, m, n] = [q.shape[0], q.shape[1], k.shape[2]];
                if k.shape[..2] != [b, q.shape[2]]
                    || v.shape[..2] != [b, n]
                    || out.shape != [b, m, v.shape[2]]
                {
                    return Err("attention shapes do not agree".into());
                }
                if [q, k, v].iter().flat_map(|x| &x.strides).any(|&s| s < 0)
                    || out.strides[2] != 1
                    || out.strides[1] < out.shape[2] as i64
                {
                    return Err(
                        "attention views need non-negative strides and unit-stride output rows"
                            .into(),
                    );
                }
                if *tile_m == 0 || (*tile_m).min(m).saturating_mul(n) > MAX_ATTENTION_SCORES {
                    return Err("an attention's row tile is empty or holds too many scores".into());
                }
                if let Some(e) = scores {
                    if ScoreSteps::of(&e.body, e.inputs.len()).is_none() {
                        return Err("an attention's score steps are not a scale and a mask".into());
                    }
                    if e.inputs.iter().any(|x| {
                        x.shape != [b, m, n]
                            || x.element_type != ElementType::F32
                            || x.strides.iter().any(|&s| s < 0)
                    }) {
                        return Err("an attention's mask must be f32 scores of its shape".into());
                    }
                }
            }
            #[cfg(feature = "recurrent")]
            KernelOp::Recurrent {
                proj,
                weights,
                h0,
                c0,
                biases,
                y,
                cell,
            } => check_recurrent([proj, weights, h0, c0, biases, y], cell)?,
            // Families this build leaves out, refused above.
            #[cfg(not(all(
                feature = "conv",
                feature = "layer-norm",
                feature = "gather",
                feature = "dynamic-matmul",
                feature = "recurrent"
            )))]
            #[allow(unreachable_patterns)]
            _ => {
                return Err(kiln_types::message!(
                    "{} is not in this build",
                    self.op.family()
                ))
            }
        }
        Ok(())
    }
}

/// The checks of a recurrent layer: f32 views of the shapes [`KernelOp::Recurrent`] names,
/// agreeing with each other and the cell, last dims contiguous, strides non-negative.
#[cfg(feature = "recurrent")]
fn check_recurrent(vs: [&View; 6], cell: &RecurrentCell) -> Result<(), String> {
    let [proj, weights, h0, c0, biases, y] = vs;
    cell.check()?;
    if vs.iter().any(|v| v.element_type != ElementType::F32) {
        return Err("a recurrent layer needs f32 views".into());
    }
    let ranks = [4, 3, 3, 3, 3, 4];
    if vs.iter().zip(ranks).any(|(v, r)| v.shape.len() != r) {
        return Err("a recurrent layer's views have the wrong ranks".into());
    }
    let (d, h) = (weights.shape[0], weights.shape[1]);
    let per_hidden = |n: usize| h.checked_mul(n as u64);
    let (Some(gh), Some(bias_len)) = (
        per_hidden(cell.cell.gates()),
        per_hidden(cell.cell.gates() + cell.cell.extra_gates()),
    ) else {
        return Err("a recurrent layer's hidden size is too large".into());
    };
    let (seq, batch) = (proj.shape[1], proj.shape[2]);
    let fits = d == cell.directions.count() as u64
        && weights.shape[2] == gh
        && proj.shape == [d, seq, batch, gh]
        && h0.shape == [d, batch, h]
        && c0.shape == [d, batch, h]
        && biases.shape == [d, 1, bias_len]
        && y.shape == [seq.saturating_add(2), d, batch, h];
    if !fits {
        return Err("a recurrent layer's view shapes do not agree".into());
    }
    let last_contiguous =
        |v: &View| v.shape.last().is_none_or(|&n| n <= 1) || v.strides.last() == Some(&1);
    if vs
        .iter()
        .any(|v| v.strides.iter().any(|&s| s < 0) || !last_contiguous(v))
        || !y.is_contiguous()
    {
        return Err(
            "a recurrent layer's views need non-negative strides, unit-stride rows and a row-major result"
                .into(),
        );
    }
    Ok(())
}

#[cfg(all(feature = "quantized", feature = "conv"))]
/// The checks of an integer convolution (`ui8` pixels by `i8` weights into `i32`): plain NCHW
/// views, weights OIHW or packed in channel quads, an output of the window's size.
fn check_integer_conv(op: &KernelOp) -> Result<(), String> {
    let KernelOp::Conv2d {
        x,
        w,
        y,
        strides,
        pads,
        dilations,
        groups,
        gemm,
        tile_co,
        tile_oh,
        ..
    } = op
    else {
        return Err("not a convolution".into());
    };
    if [x, w, y]
        .iter()
        .any(|v| v.shape.len() != 4 || !v.is_contiguous())
    {
        return Err("an integer conv2d reads and writes contiguous 4-D views".into());
    }
    if *groups == 0 || x.shape[1] % groups != 0 || y.shape[1] % groups != 0 {
        return Err("conv2d channels do not agree with its groups".into());
    }
    let cig = x.shape[1] / groups;
    let kernel = integer_conv_window(w, *gemm);
    let depth_agrees = match gemm {
        ConvGemm::ChannelRows => w.shape[1] == cig,
        ConvGemm::ChannelQuads => w.shape[3] == cig.div_ceil(4) * 4,
        ConvGemm::PixelRows => return Err("an integer conv2d has channel rows".into()),
    };
    if !depth_agrees || w.shape[0] != y.shape[1] || x.shape[0] != y.shape[0] {
        return Err("conv2d input does not agree with its weights and output".into());
    }
    if strides.contains(&0) || dilations.contains(&0) || *tile_oh == 0 || *tile_co == 0 {
        return Err("conv2d strides, dilations and tiles must be positive".into());
    }
    if !window_in_bounds(kernel, *strides, *pads, *dilations) {
        return Err("conv2d window is invalid or too large".into());
    }
    let span = WindowSpan {
        kernel,
        strides: *strides,
        dilations: *dilations,
    };
    // Both 4-D (checked above).
    let ([h, w], [oh, ow]) = ([x.shape[2], x.shape[3]], [y.shape[2], y.shape[3]]);
    if !span.outputs_agree(*pads, [h, w], [oh, ow]) {
        return Err("conv2d output size does not match its window".into());
    }
    // A workgroup lays out the input rows its output rows read, padded, four channels a
    // lane: a window that reads far more padding than input would allocate without bound.
    let rows = span.reach(0, (*tile_oh).min(oh));
    let width = span.reach(1, ow).max(pads[1].saturating_add(w));
    let input = cig.saturating_mul(x.shape[2]).saturating_mul(x.shape[3]);
    if !band_in_proportion(rows as u128 * width as u128, cig.div_ceil(4) * 4, input) {
        return Err("conv2d window reads far more padding than input".into());
    }
    Ok(())
}

/// A window's extent along rows and columns, for checking its sizes in arithmetic that
/// saturates (a crafted window's overflow makes a size huge, never small).
#[cfg(feature = "conv")]
struct WindowSpan {
    kernel: [u64; 2],
    strides: [u64; 2],
    dilations: [u64; 2],
}

#[cfg(feature = "conv")]
impl WindowSpan {
    /// Input values `outputs` outputs along dim `d` span, from the first one's first tap to
    /// the last one's last.
    fn reach(&self, d: usize, outputs: u64) -> u64 {
        outputs
            .saturating_sub(1)
            .saturating_mul(self.strides[d])
            .saturating_add(self.dilations[d].saturating_mul(self.kernel[d].saturating_sub(1)))
            .saturating_add(1)
    }

    /// Whether `output` (`[oh, ow]`) is what the window makes of `input` (`[h, w]`) padded
    /// by `pads` (top, left, bottom, right); strides must be positive.
    fn outputs_agree(&self, pads: [u64; 4], input: [u64; 2], output: [u64; 2]) -> bool {
        (0..2).all(|d| {
            let padded = input[d].saturating_add(pads[d]).saturating_add(pads[2 + d]);
            padded
                .checked_sub(self.reach(d, 1))
                .map(|r| r / self.strides[d] + 1)
                == Some(output[d])
        })
    }
}

#[cfg(feature = "quantized")]
/// The checks of an integer matmul (`ui8` by `i8` into `i32`): `a` `[B, M, K]` and a plain
/// `b` `[B, K, N]` with non-negative strides, or `b` packed `[B, N, ceil(K/4), 4]`; `c`
/// `[B, M, N]` with unit-stride rows.
fn check_integer_matmul(op: &KernelOp) -> Result<(), String> {
    let KernelOp::MatMul {
        a,
        b,
        c,
        tile_m,
        tile_n,
        ..
    } = op
    else {
        return Err("not a matmul".into());
    };
    if a.element_type != ElementType::U8 || a.shape.len() != 3 || c.shape.len() != 3 {
        return Err("an integer matmul reads ui8 [B, M, K] and writes [B, M, N]".into());
    }
    let (k, n) = (a.shape[2], c.shape[2]);
    let b_agrees = match b.shape.len() {
        4 => b.is_contiguous() && b.shape[1..] == [n, k.div_ceil(4), 4],
        3 => b.shape[1..] == [k, n],
        _ => false,
    };
    if !b_agrees || a.shape[0] != c.shape[0] || a.shape[1] != c.shape[1] || b.shape[0] != c.shape[0]
    {
        return Err("matmul shapes do not agree".into());
    }
    if a.strides.iter().chain(&b.strides).any(|&s| s < 0)
        || c.strides[2] != 1
        || c.strides[1] < c.shape[2] as i64
    {
        return Err("matmul views need non-negative strides and unit-stride output rows".into());
    }
    if *tile_m == 0 || *tile_n == 0 {
        return Err("matmul tiles must be positive".into());
    }
    Ok(())
}
