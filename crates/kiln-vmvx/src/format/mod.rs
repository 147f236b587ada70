//! The VMVX executable format: kernels over strided views, with a small elementwise bytecode.
//!
//! An executable is a list of [`Kernel`]s; each is one structured op ([`KernelOp`]) that reads
//! and writes [`View`]s of the dispatch's bindings. Elementwise computation is a [`Body`]: SSA
//! scalar instructions that the interpreter evaluates a whole row at a time. Named ops (matmul,
//! convolution, pooling, softmax, layer norm) call microkernels and may carry an elementwise
//! [`Epilogue`] fused after them.
//!
//! Files: this one holds the types and the layout rules (windows, bands, packings);
//! `check.rs` the load-time validation, `encode.rs` the byte encoding, `print.rs` the text
//! form, and `../tiling.rs` the workgroup → tile mapping.

use crate::tiling::Dims;
use crate::VmvxError;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use kiln_module::{ByteReader, ModuleError};
use kiln_types::recurrent::RecurrentCell;
use kiln_types::sizes::{Sizes, Static};
use kiln_types::ElementType;
use kiln_ukernel::gemm::Packing;
use kiln_ukernel::rows::BandLayout;

mod bind;
mod check;
mod encode;
pub use encode::{is_symbolic, SizeCodec};
mod print;
mod scores;
mod steps;
pub use scores::{Scale, ScoreSteps};
pub use steps::ChannelSteps;

/// The format string module files use for VMVX executables.
pub const FORMAT: &str = "vmvx-bytecode";
/// The format string of `vmvx-inline` executables: the same bytes as [`FORMAT`]'s (static
/// kernels only), run by the inline runtime (`kiln-inline`) with no HAL device; devices do not
/// load them.
pub const INLINE_FORMAT: &str = "vmvx-inline";
/// Version 13 lets a matmul or convolution add its product to what its output holds
/// (`accumulate`); 12 adds [`KernelOp::PointwiseDepthwise`]; 11 [`KernelOp::Recurrent`]; 10 lets a kernel read one part of a binding it writes another part of (a concat's
/// slice beside the one it computes); 9 packs the weights of pixel-row convolutions over
/// channels-last inputs tap by tap and lets poolings read and write channels-last views (8
/// let float convolutions do so,
/// [`View::is_channels_last`]; 7 added [`KernelOp::Attention`]; 6: a byte after the version
/// says whether sizes are numbers or expressions over symbols; 5: pixel-row convolutions read
/// their input planes, never a [`KernelOp::ConvBand`]; 4 added `ConvBand`, 3 the GEMM's
/// orientation, [`ConvGemm`]).
const VERSION: u32 = 13;

/// A strided view of a binding: element `idx` is at element offset `offset + Σ idx[d]·strides[d]`.
/// Sizes are numbers ([`Static`]), or expressions over the dispatch's symbols
/// ([`kiln_types::sizes::Symbolic`]) in a kernel whose sizes are known only at run time.
#[derive(Clone, Debug, PartialEq)]
pub struct View<Z: Sizes = Static> {
    pub binding: u32,
    pub offset: Z::Extent,
    pub element_type: ElementType,
    pub shape: Vec<Z::Extent>,
    pub strides: Vec<Z::Stride>,
}

impl<Z: Sizes> View<Z> {
    /// Row-major without gaps (strides of size-1 dims do not matter).
    pub fn is_contiguous(&self) -> bool {
        let c = Z::contiguous_strides(&self.shape);
        self.shape.len() == self.strides.len()
            && (0..self.shape.len())
                .all(|d| Z::extent_is(&self.shape[d], 1) || self.strides[d] == c[d])
    }

    /// A 4-D `[n, c, h, w]` view of an image stored channels-last (NHWC) without gaps,
    /// strides `[h·w·c, 1, w·c, c]` (strides of size-1 dims do not matter), and not also
    /// row-major. Float convolutions read and write such views as well as contiguous ones.
    /// Sizes must be known (a view with run-time sizes is not); allocates nothing.
    pub fn is_channels_last(&self) -> bool {
        self.stored_in([0, 2, 3, 1]) && !self.stored_in([0, 1, 2, 3])
    }

    /// Depthwise filters `[c, 1, kh, kw]` stored tap by tap (`[kh, kw, c]`): strides
    /// `[1, 1, kw·c, c]` (strides of size-1 dims do not matter), and not also row-major. A
    /// depthwise convolution of channels-last images reads them as well as contiguous ones.
    pub fn is_tap_major(&self) -> bool {
        self.stored_in([1, 2, 3, 0]) && !self.stored_in([0, 1, 2, 3])
    }

    /// Whether this 4-D view of known sizes is stored without gaps with its dims nested in
    /// `order`, outermost first.
    fn stored_in(&self, order: [usize; 4]) -> bool {
        if self.shape.len() != 4 || self.strides.len() != 4 {
            return false;
        }
        let mut stride = 1i64;
        for &d in order.iter().rev() {
            let (Some(n), Some(s)) = (
                Z::known_extent(&self.shape[d]),
                Z::known_stride(&self.strides[d]),
            ) else {
                return false;
            };
            if n != 1 && s != stride {
                return false;
            }
            stride = stride.saturating_mul(n as i64);
        }
        true
    }

    /// The view with static sizes, when every size of it is known when compiling.
    pub fn known(&self) -> Option<View> {
        Some(View {
            binding: self.binding,
            offset: Z::known_extent(&self.offset)?,
            element_type: self.element_type,
            shape: self
                .shape
                .iter()
                .map(Z::known_extent)
                .collect::<Option<_>>()?,
            strides: self
                .strides
                .iter()
                .map(Z::known_stride)
                .collect::<Option<_>>()?,
        })
    }

    /// A static view in this size family.
    pub fn from_known(v: &View) -> View<Z> {
        View {
            binding: v.binding,
            offset: Z::extent_of(v.offset),
            element_type: v.element_type,
            shape: v.shape.iter().map(|&n| Z::extent_of(n)).collect(),
            strides: v.strides.iter().map(|&s| Z::stride_of(s)).collect(),
        }
    }
}

impl View {
    /// A contiguous row-major view.
    pub fn contiguous(binding: u32, offset: u64, element_type: ElementType, shape: &[u64]) -> View {
        let mut strides = vec![1i64; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1] as i64;
        }
        View {
            binding,
            offset,
            element_type,
            shape: shape.to_vec(),
            strides,
        }
    }

    /// Lowest and one-past-highest element offsets the view touches (`None` if empty or overflow).
    ///
    /// `Ok(None)` for an empty view; an error if the arithmetic overflows.
    pub fn span(&self) -> Result<Option<(i64, i64)>, String> {
        self.span_of_dims(self.shape.len())
    }

    /// [`View::span`] of the view's first `dims` dims (the rest held at index 0).
    pub fn span_of_dims(&self, dims: usize) -> Result<Option<(i64, i64)>, String> {
        let dims = dims.min(self.shape.len());
        if self.shape[..dims].contains(&0) {
            return Ok(None);
        }
        let overflow = || "a view's extent overflows".to_string();
        let base = i64::try_from(self.offset).map_err(|_| overflow())?;
        let (mut lo, mut hi) = (base, base);
        for (&n, &s) in self.shape[..dims].iter().zip(&self.strides) {
            let reach = i64::try_from(n - 1)
                .ok()
                .and_then(|n| n.checked_mul(s))
                .ok_or_else(overflow)?;
            if reach < 0 {
                lo = lo.checked_add(reach).ok_or_else(overflow)?;
            } else {
                hi = hi.checked_add(reach).ok_or_else(overflow)?;
            }
        }
        Ok(Some((lo, hi.checked_add(1).ok_or_else(overflow)?)))
    }

    /// True if no two indices (over dims with extent > 1, except `skip` trailing dims) address
    /// the same element, so workgroups writing disjoint index boxes write disjoint memory. An
    /// empty view addresses nothing.
    ///
    /// ```
    /// use kiln_types::ElementType::F32;
    /// use kiln_vmvx::format::View;
    /// let broadcast = |rows| View { strides: vec![0, 1], ..View::contiguous(0, 0, F32, &[rows, 4]) };
    /// assert!(!broadcast(3).is_injective(0));
    /// assert!(broadcast(0).is_injective(0));
    /// assert!(View::contiguous(0, 0, F32, &[3, 4]).is_injective(0));
    /// ```
    pub fn is_injective(&self, skip_trailing: usize) -> bool {
        if self.shape.contains(&0) {
            return true;
        }
        let n = self.shape.len().saturating_sub(skip_trailing);
        let mut dims: Vec<(u64, u64)> = (0..n)
            .filter(|&d| self.shape[d] > 1)
            .map(|d| (self.strides[d].unsigned_abs(), self.shape[d]))
            .collect();
        kiln_types::sort::sort_short(&mut dims);
        let mut reach: u64 = 0;
        for (stride, extent) in dims {
            if stride <= reach {
                return false;
            }
            reach = match stride
                .checked_mul(extent - 1)
                .and_then(|r| r.checked_add(reach))
            {
                Some(r) => r,
                None => return false,
            };
        }
        true
    }
}

pub use kiln_scalar::{reg_kind, BinaryFn, Body, Inst, ReduceFn, RegKind, UnaryFn, MAX_BODY_INSTS};

/// Reads a scalar function stored by its [`UnaryFn::code`]-style number.
fn scalar_fn<T>(r: &mut ByteReader, from: fn(u8) -> Option<T>, what: &str) -> Option<T> {
    let code = r.u8();
    let f = from(code);
    if f.is_none() {
        r.invalid(kiln_types::message!("unknown {what} code {code}"));
    }
    f
}

/// Elementwise code applied to a named op's output tile: `Input(0)` is the op's result there,
/// `Input(n+1)` is `inputs[n]`, indexed by the output's coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct Epilogue<Z: Sizes = Static> {
    pub inputs: Vec<View<Z>>,
    pub body: Body,
}

/// The structured op of one kernel. Tiles and windows are numbers in every kernel; extents
/// may be expressions ([`Kernel::bind`] evaluates them).
#[derive(Clone, Debug, PartialEq)]
pub enum KernelOp<Z: Sizes = Static> {
    /// `outputs[idx] = body(inputs[idx])` over `shape`; the last `reduction_dims` dims are
    /// reduced with `reduce` (outputs then have stride 0 along them). Workgroups take
    /// `tile`-sized boxes of the parallel dims.
    Generic {
        shape: Vec<Z::Extent>,
        tile: Vec<u64>,
        reduction_dims: u32,
        reduce: ReduceFn,
        inputs: Vec<View<Z>>,
        outputs: Vec<View<Z>>,
        body: Body,
    },
    /// `c[b] = a[b]·b[b]` for views `[B,M,K]`, `[B,K,N]` and a row-major `[B,M,N]`: f32, or
    /// `ui8` by `i8` summed in `i32` (an integer matmul, whose epilogue may store any type).
    ///
    /// Data tiling: an f32 `b` may instead be a constant packed at compile time into
    /// right-hand strips, a contiguous `[B, ceil(N/nr), K, nr]` view
    /// (`kiln_ukernel::gemm::pack_rhs` per batch); then `tile_n` is a multiple of `nr`. An
    /// integer matmul's `b` may be packed as the integer GEMM's rows, `b` transposed with
    /// its depth in groups of four: a contiguous `[B, N, ceil(K/4), 4]` view.
    ///
    /// With `accumulate` (f32 only, format version 13), the product is added to the values
    /// `c` holds before the epilogue: `c = epilogue(c + a·b)`, a residual the function
    /// placed in the output beforehand (`kiln_codegen_cpu::residual`).
    MatMul {
        a: View<Z>,
        b: View<Z>,
        c: View<Z>,
        tile_m: u64,
        tile_n: u64,
        accumulate: bool,
        epilogue: Option<Epilogue<Z>>,
    },
    /// NCHW convolution with OIHW weights `[co, ci/groups, kh, kw]` (all contiguous); workgroups
    /// take `tile_co` output channels and `tile_oh` output rows of one image and group.
    ///
    /// Data tiling: `w` may instead be packed at compile time into register-tile strips, a
    /// contiguous `[groups, ceil(co/groups/s), ci/groups, kh, kw, s]` view, per group
    /// `kiln_ukernel::gemm::pack_lhs` (strips of `s = mr`, [`ConvGemm::ChannelRows`]) or
    /// `pack_rhs` of the transposed weights (`s = nr`, [`ConvGemm::PixelRows`]); `tile_co` is
    /// then a multiple of `s`.
    ///
    /// `x` may instead be the rank-1 output of a [`KernelOp::ConvBand`] for this convolution's
    /// window and output size, [`conv_band_len`] values: the input laid out once for every
    /// workgroup (only with weights packed for [`ConvGemm::ChannelRows`]; pixel rows read the
    /// input planes in place).
    ///
    /// Channels-last images (format version 8): `x` and `y` may each be channels-last
    /// ([`View::is_channels_last`]) with pixel rows, or both with a depthwise convolution
    /// whose workgroups take every channel (`tile_co` at least the channels), whose filters
    /// may then be tap by tap ([`View::is_tap_major`]). Weights packed for pixel rows over a
    /// channels-last `x` (format version 9) hold each strip's depth rows tap by tap, the
    /// group's input channels of each tap together (`[kh, kw, ci/groups]`, as `x` holds a
    /// pixel's), in the same `[groups, ceil(co/groups/s), ci/groups, kh, kw, s]` view.
    ///
    /// With `accumulate` (format version 13; f32, packed weights, not depthwise), the
    /// convolution is added to the values `y` holds before the epilogue, as
    /// [`KernelOp::MatMul`]'s.
    Conv2d {
        x: View<Z>,
        w: View<Z>,
        y: View<Z>,
        strides: [u64; 2],
        pads: [u64; 4],
        dilations: [u64; 2],
        groups: u64,
        gemm: ConvGemm,
        tile_co: u64,
        tile_oh: u64,
        accumulate: bool,
        epilogue: Option<Epilogue<Z>>,
    },
    /// A pointwise convolution whose result only a depthwise convolution reads, the two fused
    /// (format version 12; f32, planar images): `mid = steps(expand · x)` per pixel, then
    /// `y = conv2d(mid, w)` with one `[kh, kw]` filter per channel (`w` `[c, 1, kh, kw]`,
    /// contiguous). `x` is `[n, ci, h, wd]` and `y` `[n, c, oh, ow]`, both contiguous;
    /// `expand` holds the pointwise weights packed in left-hand strips, a contiguous `[1,
    /// ceil(c/s), ci, 1, 1, s]` view as [`KernelOp::Conv2d`]'s; `steps` is the pointwise
    /// convolution's epilogue (inputs indexed `[n, c, h, wd]`), only in the forms
    /// [`ChannelSteps`] describes. Workgroups take `tile_co` channels (whole strips) and
    /// `tile_oh` output rows of one image, as a depthwise convolution's do, and compute the
    /// rows of `mid` those read into their scratch: `mid` never goes through memory, where
    /// unfused it is written by one dispatch and read by the next (a MobileNet's expanded
    /// images, several MB at its higher resolutions). Only CPU targets form it (see
    /// `kiln_codegen_cpu::pointwise_depthwise`).
    PointwiseDepthwise {
        x: View<Z>,
        expand: View<Z>,
        steps: Option<Epilogue<Z>>,
        w: View<Z>,
        y: View<Z>,
        strides: [u64; 2],
        pads: [u64; 4],
        dilations: [u64; 2],
        tile_co: u64,
        tile_oh: u64,
        epilogue: Option<Epilogue<Z>>,
    },
    /// Lays out the NCHW input `x` of a convolution with this window and output size `out`
    /// (`[oh, ow]`) as its GEMM reads it: each channel plane split into stride phases and
    /// zero-padded (`kiln_ukernel::rows::BandLayout` for all output rows), into the rank-1 `y`
    /// of [`conv_band_len`] values. Workgroups take one plane each.
    ConvBand {
        x: View<Z>,
        y: View<Z>,
        kernel: [u64; 2],
        strides: [u64; 2],
        pads: [u64; 4],
        dilations: [u64; 2],
        out: [u64; 2],
    },
    /// NCHW pooling (contiguous); workgroups take one plane each. Or (format version 9) both
    /// views channels-last ([`View::is_channels_last`]): workgroups take one output row of
    /// every channel each.
    Pool2d {
        x: View<Z>,
        y: View<Z>,
        max: bool,
        kernel: [u64; 2],
        strides: [u64; 2],
        pads: [u64; 4],
        count_include_pad: bool,
        epilogue: Option<Epilogue<Z>>,
    },
    /// Softmax along dim 1 of a `[outer, len, inner]` view into a contiguous one.
    Softmax {
        x: View<Z>,
        y: View<Z>,
        epilogue: Option<Epilogue<Z>>,
    },
    /// Layer normalisation of each row of contiguous `[rows, len]` views.
    LayerNorm {
        x: View<Z>,
        y: View<Z>,
        epsilon: f32,
        epilogue: Option<Epilogue<Z>>,
    },
    /// `out[o, n, i] = data[o, indices[n], i]`, negative indices counted from the end.
    Gather {
        data: View<Z>,
        indices: View<Z>,
        out: View<Z>,
    },
    /// Attention of f32 views: per batch `b`, `out[b] = softmax(scores)·v[b]` with
    /// `scores = q[b]·k[b]` rewritten by `scores` (views `[B,M,D]`, `[B,D,N]` — the keys
    /// transposed — `[B,N,E]` and a row-major `[B,M,E]`), the softmax along each score row.
    /// Workgroups take `tile_m` query rows of one batch, whose scores never leave the
    /// workgroup's scratch: the three dispatches it replaces (scores, softmax, product)
    /// would write and read them through memory twice. Only CPU targets form it (see
    /// `kiln_codegen_cpu::attention`).
    Attention {
        q: View<Z>,
        k: View<Z>,
        v: View<Z>,
        out: View<Z>,
        /// Applied to each score as a matmul epilogue to its result (`Input(0)` the score,
        /// `Input(n+1)` `inputs[n]`, indexed `[b, m, n]`); only the forms [`ScoreSteps`]
        /// describes.
        scores: Option<Epilogue<Z>>,
        tile_m: u64,
    },
    /// A recurrent layer over a whole sequence (format version 11), f32, as
    /// `kiln_kernel::Op::Recurrent` describes it: `proj` `[D, T, B, G·H]`, `weights`
    /// `[D, H, G·H]` (rows of `G·H` contiguous columns), `h0` and `c0` `[D, B, H]`, `biases`
    /// `[D, 1, (G + E)·H]`, and `y` `[2 + T, D, B, H]`, every view's last dim contiguous.
    /// Workgroups take one direction each.
    Recurrent {
        proj: View<Z>,
        weights: View<Z>,
        h0: View<Z>,
        c0: View<Z>,
        biases: View<Z>,
        y: View<Z>,
        cell: RecurrentCell,
    },
}

/// Which way round a convolution's GEMM is: what its rows and columns are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConvGemm {
    /// Rows are output channels, columns output pixels: the weights are the left operand,
    /// plain or packed in left-hand strips. Pixels fill the vector lanes, which suits large
    /// images with few channels.
    ChannelRows,
    /// Rows are output pixels, columns output channels: the weights are the right operand,
    /// packed in right-hand strips. Channels fill the vector lanes and pixels are read in place
    /// one by one, which suits small images with many channels.
    PixelRows,
    /// The integer convolution's GEMM (rows output channels) with its `i8` weights packed at
    /// compile time in the dot-product depth order, `[co, kh, kw, 4 · ceil(ci/groups / 4)]`
    /// (`kiln_ukernel::igemm::pack_conv_filters`).
    ChannelQuads,
}

/// One entry point of an executable.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel<Z: Sizes = Static> {
    pub name: String,
    pub op: KernelOp<Z>,
}

/// The part of a convolution's output one workgroup computes: image, groups
/// `group..group_end` (one, but for a depthwise convolution), output channels `co0..co1`
/// within each group, output rows `oy0..oy1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTile {
    pub image: u64,
    pub group: u64,
    pub group_end: u64,
    pub group_channels: u64,
    pub co0: u64,
    pub co1: u64,
    pub oy0: u64,
    pub oy1: u64,
}

impl ConvTile {
    /// The tile's part in each of its groups, one group each.
    pub fn per_group(self) -> impl Iterator<Item = ConvTile> {
        (self.group..self.group_end).map(move |group| ConvTile {
            group,
            group_end: group + 1,
            ..self
        })
    }

    /// Workgroup `wg`'s tile of convolution `kernel` (its [`Kernel::grid`]).
    pub fn of(kernel: &Kernel, wg: u64) -> ConvTile {
        let grid = kernel.grid();
        let (lo, hi) = grid.tile_box(wg);
        ConvTile::in_grid(&grid, &lo, &hi)
    }

    /// The tile of box `lo..hi` of a convolution's `grid`.
    fn in_grid(grid: &crate::tiling::Grid, lo: &[u64], hi: &[u64]) -> ConvTile {
        ConvTile {
            image: lo[0],
            group: lo[2],
            group_end: hi[2],
            group_channels: grid.domain[3],
            co0: lo[3],
            co1: hi[3],
            oy0: lo[1],
            oy1: hi[1],
        }
    }
}

/// A convolution weight's `[ci/groups, kh, kw]`, plain or packed.
pub fn conv_weight_dims(w: &View) -> [u64; 3] {
    let s = if w.shape.len() == 6 {
        &w.shape[2..5]
    } else {
        &w.shape[1..4]
    };
    [s[0], s[1], s[2]]
}

impl<Z: Sizes> KernelOp<Z> {
    /// Whether this is a depthwise convolution: of images, with one input and one output
    /// channel per group (as many groups as channels), whatever the layout of its weights
    /// (float ones stay `[c, 1, kh, kw]`; integer ones are packed into channel quads).
    pub fn is_depthwise_conv(&self) -> bool {
        let KernelOp::Conv2d {
            x, w, y, groups, ..
        } = self
        else {
            return false;
        };
        [x, w, y].iter().all(|v| v.shape.len() == 4)
            && Z::extent_is(&x.shape[1], *groups)
            && Z::extent_is(&y.shape[1], *groups)
    }

    /// Whether this is an integer convolution or matmul (`ui8` by `i8`, summed in `i32`).
    pub fn is_integer_product(&self) -> bool {
        match self {
            KernelOp::MatMul { b: w, .. } | KernelOp::Conv2d { w, .. } => {
                w.element_type == ElementType::I8
            }
            _ => false,
        }
    }

    /// Whether this is an f32 matmul whose right-hand side the compiler packed in strips
    /// (`[B, N/strip, K, strip]`; [`packing`]): constant weights.
    pub fn has_packed_rhs(&self) -> bool {
        matches!(self, KernelOp::MatMul { b, .. } if b.shape.len() == 4 && b.element_type == ElementType::F32)
    }

    /// Whether this is a convolution, fused or not: its output box spans whole rows of
    /// `[image, channel, row, column]`.
    pub fn is_conv2d(&self) -> bool {
        matches!(
            self,
            KernelOp::Conv2d { .. } | KernelOp::PointwiseDepthwise { .. }
        )
    }

    /// The op's kernel family with its article, for messages (`a convolution`).
    pub fn family(&self) -> &'static str {
        match self {
            KernelOp::Conv2d { .. } if self.is_integer_product() => "an integer convolution",
            KernelOp::Conv2d { .. } => "a convolution",
            KernelOp::PointwiseDepthwise { .. } => "a fused pointwise and depthwise convolution",
            KernelOp::MatMul { .. } if self.is_integer_product() => "an integer matmul",
            KernelOp::MatMul { .. } if !self.has_packed_rhs() => {
                "a matmul with an unpacked right-hand side"
            }
            KernelOp::MatMul { .. } => "a matmul",
            KernelOp::Generic { .. } => "an elementwise or reduction kernel",
            KernelOp::ConvBand { .. } => "a convolution band layout",
            KernelOp::Pool2d { .. } => "a pooling",
            KernelOp::Softmax { .. } => "a softmax",
            KernelOp::LayerNorm { .. } => "a layer normalization",
            KernelOp::Gather { .. } => "a gather",
            KernelOp::Attention { .. } => "an attention",
            KernelOp::Recurrent { .. } => "a recurrent layer",
        }
    }

    /// What this op needs that this build of the runtime leaves out, with the cargo feature
    /// of this crate that builds it in: the op's family (`a convolution`, feature `conv`),
    /// elementwise code on element types other than f32 or a cast to one (`element-types`),
    /// or a transcendental function its bodies compute (`tanh`, feature `transcendental`).
    pub fn left_out(&self) -> Option<(&'static str, &'static str)> {
        let conv = matches!(
            self,
            KernelOp::Conv2d { .. }
                | KernelOp::PointwiseDepthwise { .. }
                | KernelOp::ConvBand { .. }
                | KernelOp::Pool2d { .. }
        );
        let family = |feature| Some((self.family(), feature));
        if conv && !cfg!(feature = "conv") {
            return family("conv");
        }
        if self.is_integer_product() && !cfg!(feature = "quantized") {
            return family("quantized");
        }
        match self {
            KernelOp::Generic { reduction_dims, .. }
                if *reduction_dims > 0 && !cfg!(feature = "reduction") =>
            {
                return Some(("a reduction", "reduction"));
            }
            KernelOp::LayerNorm { .. } if !cfg!(feature = "layer-norm") => {
                return family("layer-norm");
            }
            KernelOp::Gather { .. } if !cfg!(feature = "gather") => return family("gather"),
            KernelOp::Recurrent { .. } if !cfg!(feature = "recurrent") => {
                return family("recurrent")
            }
            KernelOp::MatMul { .. }
                if !self.is_integer_product()
                    && !self.has_packed_rhs()
                    && !cfg!(feature = "dynamic-matmul") =>
            {
                return family("dynamic-matmul");
            }
            KernelOp::Attention { .. } if !cfg!(feature = "dynamic-matmul") => {
                return family("dynamic-matmul");
            }
            _ => {}
        }
        let (body, views) = self.interpreted();
        if !cfg!(feature = "element-types") {
            if views.iter().any(|v| v.element_type != ElementType::F32) {
                return Some((
                    "elementwise code on element types other than f32",
                    "element-types",
                ));
            }
            let converts = |i: &Inst| matches!(i, Inst::Cast(_, t) if *t != ElementType::F32);
            if body.is_some_and(|b| b.insts.iter().any(converts)) {
                return Some(("a cast to an element type other than f32", "element-types"));
            }
        }
        if cfg!(feature = "transcendental") {
            return None;
        }
        body?.insts.iter().find_map(|i| match i {
            Inst::Unary(f, _) if f.is_transcendental() => Some((f.name(), "transcendental")),
            Inst::Binary(f, ..) if f.is_transcendental() => Some((f.name(), "transcendental")),
            _ => None,
        })
    }

    /// The body the interpreter runs (a generic kernel's, or an epilogue's) and the views it
    /// reads and writes element by element, converting to and from its registers: a generic
    /// kernel's views, or an epilogue's inputs and the output it rewrites.
    fn interpreted(&self) -> (Option<&Body>, Vec<&View<Z>>) {
        match self {
            KernelOp::Generic {
                body,
                inputs,
                outputs,
                ..
            } => (Some(body), inputs.iter().chain(outputs).collect()),
            KernelOp::MatMul {
                c: out, epilogue, ..
            }
            | KernelOp::Conv2d {
                y: out, epilogue, ..
            }
            | KernelOp::PointwiseDepthwise {
                y: out, epilogue, ..
            }
            | KernelOp::Pool2d {
                y: out, epilogue, ..
            }
            | KernelOp::Softmax {
                y: out, epilogue, ..
            }
            | KernelOp::LayerNorm {
                y: out, epilogue, ..
            } => match epilogue {
                Some(e) => (Some(&e.body), e.inputs.iter().chain([out]).collect()),
                None => (None, Vec::new()),
            },
            // Score and channel steps are recognised forms, run as such (never interpreted).
            KernelOp::Gather { .. }
            | KernelOp::ConvBand { .. }
            | KernelOp::Attention { .. }
            | KernelOp::Recurrent { .. } => (None, Vec::new()),
        }
    }
}

/// An integer convolution's window `[kh, kw]`, from its 4-D weights: OIHW, or packed in
/// channel quads `[co, kh, kw, lanes]` ([`ConvGemm::ChannelQuads`]).
pub fn integer_conv_window(w: &View, gemm: ConvGemm) -> [u64; 2] {
    match gemm {
        ConvGemm::ChannelQuads => [w.shape[1], w.shape[2]],
        ConvGemm::ChannelRows | ConvGemm::PixelRows => [w.shape[2], w.shape[3]],
    }
}

/// The window of a convolution or pooling op, as the row kernels take it.
pub fn window(
    kernel: [u64; 2],
    strides: [u64; 2],
    pads: [u64; 4],
    dilations: [u64; 2],
) -> kiln_ukernel::rows::Window {
    kiln_ukernel::rows::Window {
        kernel: kernel.map(|v| v as usize),
        strides: strides.map(|v| v as usize),
        pads: [pads[0] as usize, pads[1] as usize],
        dilations: dilations.map(|v| v as usize),
    }
}

/// The largest kernel extent, stride, dilation or padding a convolution or `ConvBand` window
/// may have: far beyond any model's, small enough that no layout computed from a window
/// overflows.
#[cfg(feature = "conv")]
const MAX_WINDOW: u64 = 1 << 16;

/// Whether a window's fields are within [`MAX_WINDOW`] (and positive where they must be).
#[cfg(feature = "conv")]
fn window_in_bounds(
    kernel: [u64; 2],
    strides: [u64; 2],
    pads: [u64; 4],
    dilations: [u64; 2],
) -> bool {
    let positive = |v: &u64| (1..=MAX_WINDOW).contains(v);
    kernel
        .iter()
        .chain(&strides)
        .chain(&dilations)
        .all(positive)
        && pads.iter().all(|&p| p <= MAX_WINDOW)
}

/// The band layout (`kiln_ukernel::rows::BandLayout`) of `rows` output rows `ow` wide, for a
/// window within [`MAX_WINDOW`] and sizes that fit in 32 bits.
fn band_layout(win: &kiln_ukernel::rows::Window, rows: u64, ow: u64) -> Option<BandLayout> {
    let size = |v: u64| usize::try_from(v).ok().filter(|&v| v <= u32::MAX as usize);
    Some(BandLayout::new(win, size(rows)?, size(ow)?))
}

/// Values per input channel of `layout`, in arithmetic that cannot overflow.
fn band_channel_len(layout: &BandLayout) -> u128 {
    layout.phase_planes() as u128 * layout.lines as u128 * layout.wp as u128
}

/// Whether laying out `channels` channels of a band (`per_channel` values each) stays within a
/// few times the `input` values it is made from (plus 64 MiB): a crafted window that reads far
/// more padding than input would otherwise have a workgroup allocate without bound.
#[cfg(feature = "conv")]
fn band_in_proportion(per_channel: u128, channels: u64, input: u64) -> bool {
    per_channel
        .checked_mul(channels as u128)
        .is_some_and(|len| len <= 4 * input as u128 + (1 << 24))
}

/// Values in a [`KernelOp::ConvBand`] output for `n` images of `c` channels: every channel's
/// layout for all `oh` output rows, then what the GEMM may read past the last one; `None` when
/// that is no size a buffer could have. The window must be within `MAX_WINDOW` (compiled
/// modules' are; the loader checks).
pub fn conv_band_len(win: &kiln_ukernel::rows::Window, [n, c, oh, ow]: [u64; 4]) -> Option<u64> {
    let layout = band_layout(win, oh, ow)?;
    let tail = (layout.tail() + kiln_ukernel::rows::MAX_PANEL_WIDTH) as u128;
    let len = (n as u128 * c as u128)
        .checked_mul(band_channel_len(&layout))?
        .checked_add(tail)?;
    u64::try_from(len).ok()
}

/// How a packed GEMM operand was laid out, if the op has one: a convolution weight of rank 6
/// or a matmul right-hand side of rank 4 (see [`KernelOp::Conv2d`], [`KernelOp::MatMul`]). The
/// strip size is as recorded: [`Packing::is_known`] says whether any tile reads it.
pub fn packing(op: &KernelOp) -> Option<Packing> {
    let strip = |v: &View| usize::try_from(*v.shape.last()?).ok();
    match op {
        KernelOp::Conv2d { w, gemm, .. } if w.shape.len() == 6 => match gemm {
            ConvGemm::ChannelRows => strip(w).map(Packing::Rows),
            ConvGemm::PixelRows => strip(w).map(Packing::Columns),
            ConvGemm::ChannelQuads => None,
        },
        KernelOp::MatMul { b, .. } if op.has_packed_rhs() => strip(b).map(Packing::Columns),
        KernelOp::PointwiseDepthwise { expand, .. } => strip(expand).map(Packing::Rows),
        _ => None,
    }
}

impl Kernel {
    /// Sets the workgroup tiles of a generic, matmul or convolution kernel from its sizes and
    /// packed layouts, by [`crate::tile_config`]'s rules; other kernels have fixed workgroup
    /// parts.
    pub fn choose_tiles(&mut self) {
        use crate::tile_config as config;
        // Depthwise: workgroups take several channels.
        let depthwise = self.op.is_depthwise_conv();
        match &mut self.op {
            KernelOp::Generic {
                shape,
                tile,
                reduction_dims,
                ..
            } => *tile = config::generic_kernel_tile(shape, *reduction_dims as usize),
            KernelOp::MatMul {
                b,
                c,
                tile_m,
                tile_n,
                ..
            } => {
                [*tile_m, *tile_n] = config::matmul_tile(c.shape[1], c.shape[2]);
                // Packed right-hand strips: whole strips per workgroup.
                if let [.., nr] = b.shape[..] {
                    if b.shape.len() == 4 && b.element_type == ElementType::F32 {
                        *tile_n = tile_n.next_multiple_of(nr.max(1));
                    }
                }
            }
            KernelOp::Conv2d {
                w,
                y,
                groups,
                strides,
                tile_co,
                tile_oh,
                ..
            } => {
                // Packed weights `[groups, strips, cig, kh, kw, strip]`: whole strips per
                // workgroup; plain ones `[co, cig, kh, kw]`.
                let (depth, taps, quantum) = match w.shape[..] {
                    [_, _, cig, kh, kw, strip] => (cig * kh * kw, kh * kw, strip),
                    _ => (
                        w.shape[1..].iter().product(),
                        w.shape[2..].iter().product(),
                        8,
                    ),
                };
                [*tile_co, *tile_oh] = if depthwise && y.is_channels_last() {
                    config::depthwise_channels_last_tile(&y.shape)
                } else if depthwise {
                    config::depthwise_tile(&y.shape, strides[1])
                } else {
                    config::conv_tile(
                        &y.shape,
                        y.is_channels_last(),
                        *groups,
                        depth,
                        taps,
                        quantum,
                    )
                };
            }
            KernelOp::Attention { k, out, tile_m, .. } => {
                *tile_m = config::attention_tile(out.shape[0], out.shape[1], k.shape[2])
            }
            KernelOp::PointwiseDepthwise {
                x,
                expand,
                w,
                y,
                strides,
                dilations,
                tile_co,
                tile_oh,
                ..
            } => {
                let strip = expand.shape.last().copied().unwrap_or(1);
                let reach = [strides[0], dilations[0] * (w.shape[2].max(1) - 1)];
                [*tile_co, *tile_oh] =
                    config::pointwise_depthwise_tile(&y.shape, x.shape[3], reach, strip);
            }
            _ => {}
        }
    }

    /// The workgroup grid this kernel expects (always one-dimensional here).
    ///
    /// Zero when the kernel's output is empty; `u64::MAX` if the count overflows.
    pub fn workgroup_count(&self) -> u64 {
        if self
            .outputs()
            .iter()
            .any(|v| self.written_part(v).shape.contains(&0))
        {
            return 0;
        }
        self.grid().count()
    }

    /// The box `[lo, hi)` of the output that workgroup `wg` of a named op computes (where its
    /// epilogue applies); `None` for generic and gather kernels.
    pub fn output_box(&self, wg: u64) -> Option<crate::tiling::TileBox<u64>> {
        let grid = self.grid();
        let (lo, hi) = grid.tile_box(wg);
        Some(match &self.op {
            KernelOp::MatMul { .. } => (lo, hi),
            KernelOp::Conv2d { y, .. } | KernelOp::PointwiseDepthwise { y, .. } => {
                let t = ConvTile::in_grid(&grid, &lo, &hi);
                let c0 = t.group * t.group_channels + t.co0;
                let c1 = (t.group_end - 1) * t.group_channels + t.co1;
                (
                    Dims::from_slice(&[t.image, c0, t.oy0, 0]),
                    Dims::from_slice(&[t.image + 1, c1, t.oy1, y.shape[3]]),
                )
            }
            KernelOp::Pool2d { x, y, .. } if x.is_channels_last() => (
                Dims::from_slice(&[lo[0], 0, lo[1], 0]),
                Dims::from_slice(&[hi[0], y.shape[1], hi[1], y.shape[3]]),
            ),
            KernelOp::Pool2d { y, .. } => (
                Dims::from_slice(&[lo[0], lo[1], 0, 0]),
                Dims::from_slice(&[hi[0], hi[1], y.shape[2], y.shape[3]]),
            ),
            KernelOp::Softmax { y, .. } => (
                Dims::from_slice(&[lo[0], 0, 0]),
                Dims::from_slice(&[hi[0], y.shape[1], y.shape[2]]),
            ),
            KernelOp::LayerNorm { y, .. } => (
                Dims::from_slice(&[lo[0], 0]),
                Dims::from_slice(&[hi[0], y.shape[1]]),
            ),
            KernelOp::Attention { out, .. } => (
                Dims::from_slice(&[lo[0], lo[1], 0]),
                Dims::from_slice(&[hi[0], hi[1], out.shape[2]]),
            ),
            KernelOp::Generic { .. }
            | KernelOp::Gather { .. }
            | KernelOp::ConvBand { .. }
            | KernelOp::Recurrent { .. } => return None,
        })
    }
}

impl<Z: Sizes> Kernel<Z> {
    /// Refuses this kernel when it needs what this build leaves out ([`KernelOp::left_out`]):
    /// decoding an executable and working out a kernel's [`Kernel::binding_needs`], which
    /// every dispatch's binding check goes through, both do.
    pub fn built(&self) -> Result<(), VmvxError> {
        match self.op.left_out() {
            Some((what, feature)) => Err(VmvxError::NotBuilt {
                kernel: self.name.clone(),
                what,
                feature,
            }),
            None => Ok(()),
        }
    }

    /// The kernel's epilogue, if it has one.
    pub fn epilogue(&self) -> Option<&Epilogue<Z>> {
        match &self.op {
            KernelOp::MatMul { epilogue, .. }
            | KernelOp::Conv2d { epilogue, .. }
            | KernelOp::PointwiseDepthwise { epilogue, .. }
            | KernelOp::Pool2d { epilogue, .. }
            | KernelOp::Softmax { epilogue, .. }
            | KernelOp::LayerNorm { epilogue, .. } => epilogue.as_ref(),
            // An attention's score steps apply inside it, not to its output.
            KernelOp::Generic { .. }
            | KernelOp::Gather { .. }
            | KernelOp::ConvBand { .. }
            | KernelOp::Attention { .. }
            | KernelOp::Recurrent { .. } => None,
        }
    }

    /// The same kernel without its epilogue.
    pub fn without_epilogue(&self) -> Kernel<Z> {
        let mut k = self.clone();
        match &mut k.op {
            KernelOp::MatMul { epilogue, .. }
            | KernelOp::Conv2d { epilogue, .. }
            | KernelOp::PointwiseDepthwise { epilogue, .. }
            | KernelOp::Pool2d { epilogue, .. }
            | KernelOp::Softmax { epilogue, .. }
            | KernelOp::LayerNorm { epilogue, .. } => *epilogue = None,
            KernelOp::Generic { .. }
            | KernelOp::Gather { .. }
            | KernelOp::ConvBand { .. }
            | KernelOp::Attention { .. }
            | KernelOp::Recurrent { .. } => {}
        }
        k
    }

    /// Every view the kernel touches, for binding checks.
    pub fn views(&self) -> Vec<&View<Z>> {
        fn ep<Z: Sizes>(e: &Option<Epilogue<Z>>) -> Vec<&View<Z>> {
            e.iter().flat_map(|e| e.inputs.iter()).collect()
        }
        match &self.op {
            KernelOp::Generic {
                inputs, outputs, ..
            } => inputs.iter().chain(outputs).collect(),
            KernelOp::MatMul {
                a, b, c, epilogue, ..
            } => [a, b, c].into_iter().chain(ep(epilogue)).collect(),
            KernelOp::Conv2d {
                x, w, y, epilogue, ..
            } => [x, w, y].into_iter().chain(ep(epilogue)).collect(),
            KernelOp::PointwiseDepthwise {
                x,
                expand,
                steps,
                w,
                y,
                epilogue,
                ..
            } => [x, expand, w, y]
                .into_iter()
                .chain(ep(steps))
                .chain(ep(epilogue))
                .collect(),
            KernelOp::Pool2d { x, y, epilogue, .. }
            | KernelOp::Softmax { x, y, epilogue }
            | KernelOp::LayerNorm { x, y, epilogue, .. } => {
                [x, y].into_iter().chain(ep(epilogue)).collect()
            }
            KernelOp::Gather { data, indices, out } => vec![data, indices, out],
            KernelOp::ConvBand { x, y, .. } => vec![x, y],
            KernelOp::Attention {
                q,
                k,
                v,
                out,
                scores,
                ..
            } => [q, k, v, out].into_iter().chain(ep(scores)).collect(),
            KernelOp::Recurrent {
                proj,
                weights,
                h0,
                c0,
                biases,
                y,
                ..
            } => vec![proj, weights, h0, c0, biases, y],
        }
    }

    /// Mutable access to every view, in the order of [`Kernel::views`].
    pub fn views_mut(&mut self) -> Vec<&mut View<Z>> {
        fn ep<Z: Sizes>(e: &mut Option<Epilogue<Z>>) -> impl Iterator<Item = &mut View<Z>> {
            e.iter_mut().flat_map(|e| e.inputs.iter_mut())
        }
        match &mut self.op {
            KernelOp::Generic {
                inputs, outputs, ..
            } => inputs.iter_mut().chain(outputs.iter_mut()).collect(),
            KernelOp::MatMul {
                a, b, c, epilogue, ..
            } => [a, b, c].into_iter().chain(ep(epilogue)).collect(),
            KernelOp::Conv2d {
                x, w, y, epilogue, ..
            } => [x, w, y].into_iter().chain(ep(epilogue)).collect(),
            KernelOp::PointwiseDepthwise {
                x,
                expand,
                steps,
                w,
                y,
                epilogue,
                ..
            } => [x, expand, w, y]
                .into_iter()
                .chain(ep(steps))
                .chain(ep(epilogue))
                .collect(),
            KernelOp::Pool2d { x, y, epilogue, .. }
            | KernelOp::Softmax { x, y, epilogue }
            | KernelOp::LayerNorm { x, y, epilogue, .. } => {
                [x, y].into_iter().chain(ep(epilogue)).collect()
            }
            KernelOp::Gather { data, indices, out } => vec![data, indices, out],
            KernelOp::ConvBand { x, y, .. } => vec![x, y],
            KernelOp::Attention {
                q,
                k,
                v,
                out,
                scores,
                ..
            } => [q, k, v, out].into_iter().chain(ep(scores)).collect(),
            KernelOp::Recurrent {
                proj,
                weights,
                h0,
                c0,
                biases,
                y,
                ..
            } => vec![proj, weights, h0, c0, biases, y],
        }
    }

    /// The views the kernel writes; every other view is only read.
    pub fn outputs(&self) -> Vec<&View<Z>> {
        match &self.op {
            KernelOp::Generic { outputs, .. } => outputs.iter().collect(),
            KernelOp::MatMul { c: y, .. }
            | KernelOp::Conv2d { y, .. }
            | KernelOp::PointwiseDepthwise { y, .. }
            | KernelOp::Pool2d { y, .. }
            | KernelOp::Softmax { y, .. }
            | KernelOp::LayerNorm { y, .. }
            | KernelOp::ConvBand { y, .. } => vec![y],
            KernelOp::Gather { out, .. }
            | KernelOp::Attention { out, .. }
            | KernelOp::Recurrent { y: out, .. } => vec![out],
        }
    }
}

impl Kernel {
    /// The part of output view `v` the kernel actually writes: a reduction's output view spans
    /// the reduced dims too (with stride 0), but only its parallel dims address elements.
    pub fn written_part(&self, v: &View) -> View {
        let p = self.written_dims(v);
        View {
            shape: v.shape[..p].to_vec(),
            strides: v.strides[..p].to_vec(),
            ..v.clone()
        }
    }

    /// How many leading dims of output view `v` address what the kernel writes (see
    /// [`Kernel::written_part`]).
    pub fn written_dims(&self, v: &View) -> usize {
        match &self.op {
            KernelOp::Generic { reduction_dims, .. } => {
                v.shape.len().saturating_sub(*reduction_dims as usize)
            }
            _ => v.shape.len(),
        }
    }
}

/// A VMVX executable: its kernels, in entry-point order. An executable's kernels all have
/// static sizes, or all take their sizes as symbols at each dispatch
/// (`Executable<Symbolic>`, see [`Kernel::bind`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Executable<Z: Sizes = Static> {
    pub kernels: Vec<Kernel<Z>>,
}

impl<Z: Sizes> Default for Executable<Z> {
    fn default() -> Self {
        Executable { kernels: vec![] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    /// A `conv_band` for a 3×3, stride-2, pad-1 window over a 1×2×9×9 input (5×5 output).
    fn conv_band() -> Kernel {
        let win = window([3, 3], [2, 2], [1, 1, 1, 1], [1, 1]);
        let len = conv_band_len(&win, [1, 2, 5, 5]).unwrap();
        Kernel {
            name: "dispatch_0".into(),
            op: KernelOp::ConvBand {
                x: View::contiguous(0, 0, ElementType::F32, &[1, 2, 9, 9]),
                y: View::contiguous(1, 0, ElementType::F32, &[len]),
                kernel: [3, 3],
                strides: [2, 2],
                pads: [1, 1, 1, 1],
                dilations: [1, 1],
                out: [5, 5],
            },
        }
    }

    /// An elementwise kernel may read one part of a binding it writes another part of (a
    /// concat's slice beside the one it computes), never bytes it writes; a named op may not
    /// read a binding it writes at all.
    #[test]
    fn a_binding_is_read_only_apart_from_where_it_is_written() {
        // `elementwise`'s kernel with both views on binding 0, at element offsets.
        let shift = |input: u64, output: u64, output_type: ElementType, body: Body| {
            let mut kernel = elementwise("shift", ElementType::F32, output_type, body);
            if let KernelOp::Generic {
                inputs, outputs, ..
            } = &mut kernel.op
            {
                inputs[0].offset = input;
                outputs[0].binding = 0;
                outputs[0].offset = output;
            }
            kernel
        };
        let copy = |input: u64, output: u64| {
            let body = Body {
                insts: vec![Inst::Input(0)],
                results: vec![0],
            };
            shift(input, output, ElementType::F32, body)
        };
        copy(0, 4).check().unwrap();
        copy(4, 0).check().unwrap();
        let refused = "binding 0 is read where it is written";
        assert_eq!(copy(0, 2).check().unwrap_err(), refused);
        // Elements 4..8 of bytes read as f32 elements 0..4 (bytes 0..16).
        let narrow = Body {
            insts: vec![Inst::Input(0), Inst::Cast(0, ElementType::U8)],
            results: vec![1],
        };
        let err = shift(0, 4, ElementType::U8, narrow).check().unwrap_err();
        if cfg!(feature = "element-types") {
            assert_eq!(err, refused);
        }
        let softmax = Kernel {
            name: "softmax".into(),
            op: KernelOp::Softmax {
                x: f32_view(0, &[1, 4, 1]),
                y: View {
                    offset: 4,
                    ..f32_view(0, &[1, 4, 1])
                },
                epilogue: None,
            },
        };
        assert_eq!(softmax.check().unwrap_err(), refused);
    }

    /// A build without a kernel family or the transcendental functions refuses executables
    /// that need them when it reads them, naming the kernel, what it needs and the feature; a
    /// build with them reads them.
    #[test]
    fn left_out_families_are_refused_when_read() {
        let bytes = Executable {
            kernels: vec![conv_band()],
        }
        .encode();
        let read = Executable::decode(&bytes);
        if cfg!(feature = "conv") {
            read.unwrap();
        } else {
            assert_eq!(
                read.unwrap_err().to_string(),
                "kernel 'dispatch_0' needs a convolution band layout, which this build of the \
                 runtime leaves out (kiln-vmvx feature `conv`)"
            );
        }
        for (kernel, what, feature, built) in [
            (
                sum_rows(),
                "a reduction",
                "reduction",
                cfg!(feature = "reduction"),
            ),
            (
                layer_norm(),
                "a layer normalization",
                "layer-norm",
                cfg!(feature = "layer-norm"),
            ),
            (gather(), "a gather", "gather", cfg!(feature = "gather")),
            (
                tanh(),
                "tanh",
                "transcendental",
                cfg!(feature = "transcendental"),
            ),
            (
                softmax_squared(),
                "pow",
                "transcendental",
                cfg!(feature = "transcendental"),
            ),
            (
                attention_scores(),
                "a matmul with an unpacked right-hand side",
                "dynamic-matmul",
                cfg!(feature = "dynamic-matmul"),
            ),
            (
                attention(None),
                "an attention",
                "dynamic-matmul",
                cfg!(feature = "dynamic-matmul"),
            ),
            (
                add_i32(),
                "elementwise code on element types other than f32",
                "element-types",
                cfg!(feature = "element-types"),
            ),
            (
                round_to_f16(),
                "a cast to an element type other than f32",
                "element-types",
                cfg!(feature = "element-types"),
            ),
        ] {
            let exe = Executable {
                kernels: vec![kernel.clone()],
            };
            let read = Executable::decode(&exe.encode());
            if built {
                assert_eq!(read.unwrap(), exe);
                kernel.check().unwrap();
            } else {
                let message = format!(
                    "kernel '{}' needs {what}, which this build of the runtime leaves out \
                     (kiln-vmvx feature `{feature}`)",
                    kernel.name
                );
                assert_eq!(read.unwrap_err().to_string(), message);
                // A kernel built in memory is refused by its check and before it runs (a
                // dispatch's binding check works out its binding needs).
                let refusal =
                    format!("{what} is not in this build (kiln-vmvx feature `{feature}`)");
                assert_eq!(kernel.check().unwrap_err(), refusal);
                assert_eq!(kernel.binding_needs().unwrap_err().to_string(), message);
            }
        }
    }

    fn f32_view(binding: u32, shape: &[u64]) -> View {
        View::contiguous(binding, 0, ElementType::F32, shape)
    }

    /// Sums each row of a 2×3 matrix.
    fn sum_rows() -> Kernel {
        let mut out = f32_view(1, &[2, 3]);
        out.strides = vec![1, 0];
        Kernel {
            name: "sum_rows".into(),
            op: KernelOp::Generic {
                shape: vec![2, 3],
                tile: vec![2, 3],
                reduction_dims: 1,
                reduce: ReduceFn::Sum,
                inputs: vec![f32_view(0, &[2, 3])],
                outputs: vec![out],
                body: Body {
                    insts: vec![Inst::Input(0)],
                    results: vec![0],
                },
            },
        }
    }

    fn layer_norm() -> Kernel {
        Kernel {
            name: "layer_norm".into(),
            op: KernelOp::LayerNorm {
                x: f32_view(0, &[2, 4]),
                y: f32_view(1, &[2, 4]),
                epsilon: 1e-5,
                epilogue: None,
            },
        }
    }

    /// Picks 3 of 4 rows of a 4×2 table.
    fn gather() -> Kernel {
        Kernel {
            name: "gather".into(),
            op: KernelOp::Gather {
                data: f32_view(0, &[1, 4, 2]),
                indices: View::contiguous(1, 0, ElementType::I64, &[3]),
                out: f32_view(2, &[1, 3, 2]),
            },
        }
    }

    fn tanh() -> Kernel {
        Kernel {
            name: "tanh".into(),
            op: KernelOp::Generic {
                shape: vec![4],
                tile: vec![4],
                reduction_dims: 0,
                reduce: ReduceFn::Sum,
                inputs: vec![f32_view(0, &[4])],
                outputs: vec![f32_view(1, &[4])],
                body: Body {
                    insts: vec![Inst::Input(0), Inst::Unary(UnaryFn::Tanh, 0)],
                    results: vec![1],
                },
            },
        }
    }

    /// One generic kernel over four elements computing `body` from one input view.
    fn elementwise(name: &str, input: ElementType, output: ElementType, body: Body) -> Kernel {
        Kernel {
            name: name.into(),
            op: KernelOp::Generic {
                shape: vec![4],
                tile: vec![4],
                reduction_dims: 0,
                reduce: ReduceFn::Sum,
                inputs: vec![View::contiguous(0, 0, input, &[4])],
                outputs: vec![View::contiguous(1, 0, output, &[4])],
                body,
            },
        }
    }

    /// Doubles four i32s.
    fn add_i32() -> Kernel {
        let body = Body {
            insts: vec![Inst::Input(0), Inst::Binary(BinaryFn::Add, 0, 0)],
            results: vec![1],
        };
        elementwise("add_i32", ElementType::I32, ElementType::I32, body)
    }

    /// Rounds four f32s to the nearest f16 values, kept as f32.
    fn round_to_f16() -> Kernel {
        let body = Body {
            insts: vec![Inst::Input(0), Inst::Cast(0, ElementType::F16)],
            results: vec![1],
        };
        elementwise("round_to_f16", ElementType::F32, ElementType::F32, body)
    }

    /// `x > 0` as 1.0 or 0.0: a comparison cast back to f32.
    fn positive_mask() -> Kernel {
        let body = Body {
            insts: vec![
                Inst::Input(0),
                Inst::ConstF(0.0),
                Inst::Binary(BinaryFn::Greater, 0, 1),
                Inst::Cast(2, ElementType::F32),
            ],
            results: vec![3],
        };
        elementwise("positive_mask", ElementType::F32, ElementType::F32, body)
    }

    /// Elementwise code on f32 with casts to f32 is in every build, `element-types` or not.
    #[test]
    fn every_build_runs_f32_code_with_casts_to_f32() {
        let exe = Executable {
            kernels: vec![positive_mask()],
        };
        let exe = Executable::decode(&exe.encode()).unwrap();
        let mut x = [-1.0f32, 2.0, 0.0, 3.5];
        let mut y = [7.0f32; 4];
        let bindings = [
            crate::Binding {
                ptr: x.as_mut_ptr().cast(),
                len: 16,
                writable: false,
            },
            crate::Binding {
                ptr: y.as_mut_ptr().cast(),
                len: 16,
                writable: true,
            },
        ];
        let count = exe.kernels[0].workgroup_count() as u32;
        exe.check_bindings(0, count, &bindings).unwrap();
        for wg in 0..count {
            // SAFETY: the bindings were checked and are this test's own arrays.
            unsafe { exe.run_workgroup(0, wg, &bindings, kiln_ukernel::Kernels::best()) }.unwrap();
        }
        assert_eq!(y, [0.0, 1.0, 0.0, 1.0]);
    }

    /// Depthwise: one input and one output channel per group, whatever the weights' layout
    /// (an integer convolution's are packed into channel quads, `[c, kh, kw, 4]`); a grouped
    /// convolution with two inputs per group, or a 1-D band's input, is not.
    #[test]
    fn depthwise_convolutions_are_told_by_their_channels_and_groups() {
        let conv = |x: &[u64], w: (ElementType, &[u64]), groups: u64| KernelOp::Conv2d {
            x: View::contiguous(0, 0, w.0, x),
            w: View::contiguous(1, 0, w.0, w.1),
            y: f32_view(2, &[1, 8, 6, 6]),
            strides: [1, 1],
            pads: [1, 1, 1, 1],
            dilations: [1, 1],
            groups,
            gemm: ConvGemm::ChannelRows,
            tile_co: 8,
            tile_oh: 6,
            accumulate: false,
            epilogue: None,
        };
        let image = [1, 8, 6, 6];
        assert!(conv(&image, (ElementType::F32, &[8, 1, 3, 3]), 8).is_depthwise_conv());
        assert!(conv(&image, (ElementType::I8, &[8, 3, 3, 4]), 8).is_depthwise_conv());
        assert!(!conv(&[1, 16, 6, 6], (ElementType::F32, &[8, 2, 3, 3]), 8).is_depthwise_conv());
        assert!(!conv(&image, (ElementType::F32, &[8, 8, 3, 3]), 1).is_depthwise_conv());
        assert!(!conv(&[288], (ElementType::F32, &[8, 1, 3, 3]), 8).is_depthwise_conv());
    }

    /// A 2×3 by 3×2 product of two run-time operands (as attention's scores are): its
    /// right-hand side is not packed.
    fn attention_scores() -> Kernel {
        Kernel {
            name: "scores".into(),
            op: KernelOp::MatMul {
                a: f32_view(0, &[1, 2, 3]),
                b: f32_view(1, &[1, 3, 2]),
                c: f32_view(2, &[1, 2, 2]),
                tile_m: 2,
                tile_n: 2,
                accumulate: false,
                epilogue: None,
            },
        }
    }

    /// Attention of 3 queries over 4 keys of depth 2, values 2 wide, query rows in tiles of 2;
    /// bindings q, kᵀ, v, out, then the score steps' mask `[1, 3, 4]`, if they have one.
    fn attention(scores: Option<Epilogue>) -> Kernel {
        Kernel {
            name: "attention".into(),
            op: KernelOp::Attention {
                q: f32_view(0, &[1, 3, 2]),
                k: f32_view(1, &[1, 2, 4]),
                v: f32_view(2, &[1, 4, 2]),
                out: f32_view(3, &[1, 3, 2]),
                scores,
                tile_m: 2,
            },
        }
    }

    /// Scores halved, then masked: `s * 0.5 + mask`.
    fn halved_and_masked() -> Epilogue {
        Epilogue {
            inputs: vec![f32_view(4, &[1, 3, 4])],
            body: Body {
                insts: vec![
                    Inst::Input(0),
                    Inst::ConstF(0.5),
                    Inst::Binary(BinaryFn::Mul, 0, 1),
                    Inst::Input(1),
                    Inst::Binary(BinaryFn::Add, 2, 3),
                ],
                results: vec![4],
            },
        }
    }

    #[cfg(feature = "dynamic-matmul")]
    #[test]
    fn attention_matches_its_unfused_definition() {
        let exe = Executable {
            kernels: vec![attention(Some(halved_and_masked()))],
        };
        let exe = Executable::decode(&exe.encode()).unwrap();
        let mut q = [1.0f32, 0.0, 0.0, 2.0, -1.0, 1.0];
        let mut kt = [1.0f32, 2.0, 0.0, -1.0, 0.5, 0.0, 1.0, 3.0];
        let mut v = [1.0f32, 0.0, 0.0, 1.0, 2.0, 2.0, -1.0, 4.0];
        let mut mask = [0.0f32; 12];
        mask[3] = -1e4;
        mask[4..8].copy_from_slice(&[-1e4, 0.0, 0.0, 0.0]);
        let mut out = [0.0f32; 6];
        let binding = |data: &mut [f32], writable| crate::Binding {
            ptr: data.as_mut_ptr().cast(),
            len: data.len() * 4,
            writable,
        };
        let bindings = [
            binding(&mut q, false),
            binding(&mut kt, false),
            binding(&mut v, false),
            binding(&mut out, true),
            binding(&mut mask, false),
        ];
        let count = exe.kernels[0].workgroup_count() as u32;
        assert_eq!(count, 2);
        exe.check_bindings(0, count, &bindings).unwrap();
        for wg in 0..count {
            // SAFETY: the bindings were checked and are this test's own arrays.
            unsafe { exe.run_workgroup(0, wg, &bindings, kiln_ukernel::Kernels::best()) }.unwrap();
        }
        for i in 0..3 {
            let scores: Vec<f64> = (0..4)
                .map(|j| {
                    let s: f64 = (0..2).map(|d| (q[i * 2 + d] * kt[d * 4 + j]) as f64).sum();
                    s * 0.5 + mask[i * 4 + j] as f64
                })
                .collect();
            let top = scores.iter().cloned().fold(f64::MIN, f64::max);
            let e: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
            let sum: f64 = e.iter().sum();
            for c in 0..2 {
                let want: f64 = (0..4).map(|j| e[j] / sum * v[j * 2 + c] as f64).sum();
                let got = out[i * 2 + c] as f64;
                assert!(
                    (got - want).abs() < 1e-5,
                    "row {i} column {c}: {got} vs {want}"
                );
            }
        }
    }

    #[cfg(feature = "dynamic-matmul")]
    #[test]
    fn attentions_with_other_score_steps_or_shapes_are_refused() {
        let squared = Epilogue {
            inputs: vec![],
            body: Body {
                insts: vec![Inst::Input(0), Inst::Binary(BinaryFn::Mul, 0, 0)],
                results: vec![1],
            },
        };
        assert_eq!(
            attention(Some(squared)).check().unwrap_err(),
            "an attention's score steps are not a scale and a mask"
        );
        let mut short_mask = halved_and_masked();
        short_mask.inputs[0] = f32_view(4, &[1, 3, 3]);
        assert_eq!(
            attention(Some(short_mask)).check().unwrap_err(),
            "an attention's mask must be f32 scores of its shape"
        );
        let mut k = attention(None);
        if let KernelOp::Attention { v, .. } = &mut k.op {
            *v = f32_view(2, &[1, 5, 2]);
        }
        assert_eq!(k.check().unwrap_err(), "attention shapes do not agree");
    }

    /// A softmax whose epilogue squares it with `pow`.
    fn softmax_squared() -> Kernel {
        Kernel {
            name: "softmax_squared".into(),
            op: KernelOp::Softmax {
                x: f32_view(0, &[1, 4, 1]),
                y: f32_view(1, &[1, 4, 1]),
                epilogue: Some(Epilogue {
                    inputs: vec![],
                    body: Body {
                        insts: vec![
                            Inst::Input(0),
                            Inst::ConstF(2.0),
                            Inst::Binary(BinaryFn::Pow, 0, 1),
                        ],
                        results: vec![2],
                    },
                }),
            },
        }
    }

    #[cfg(feature = "conv")]
    #[test]
    fn conv_band_round_trips_and_is_checked() {
        let exe = Executable {
            kernels: vec![conv_band()],
        };
        let back = Executable::decode(&exe.encode()).unwrap();
        assert_eq!(back.kernels, exe.kernels);
        assert_eq!(back.kernels[0].workgroup_count(), 2);

        let mut short = conv_band();
        let KernelOp::ConvBand { y, .. } = &mut short.op else {
            unreachable!()
        };
        y.shape[0] -= 1;
        assert_eq!(
            short.check().unwrap_err(),
            "conv_band output does not hold the layout"
        );
        let mut no_window = conv_band();
        let KernelOp::ConvBand { strides, .. } = &mut no_window.op else {
            unreachable!()
        };
        strides[1] = 0;
        assert_eq!(
            no_window.check().unwrap_err(),
            "conv_band window is invalid"
        );
    }

    /// Windows are bounded before any layout is computed from them: a module whose checksums
    /// hold but whose window fields were crafted is refused, not run out of memory.
    #[cfg(feature = "conv")]
    #[test]
    fn crafted_windows_are_refused() {
        let band = |kernel: [u64; 2], pads: [u64; 4], dilations: [u64; 2]| {
            let mut k = conv_band();
            let KernelOp::ConvBand {
                kernel: kk,
                pads: pp,
                dilations: dd,
                ..
            } = &mut k.op
            else {
                unreachable!()
            };
            (*kk, *pp, *dd) = (kernel, pads, dilations);
            k.check().unwrap_err()
        };
        let invalid = "conv_band window is invalid";
        assert_eq!(band([1 << 40, 3], [1; 4], [1, 1]), invalid);
        assert_eq!(band([3, 3], [1 << 40, 1, 1, 1], [1, 1]), invalid);
        // In bounds, but 60000 apart the taps of 5x5 outputs would lay out billions of values.
        assert_eq!(band([3, 3], [1; 4], [60000, 60000]), invalid);

        let conv = |dilations: [u64; 2]| Kernel {
            name: "dispatch_0".into(),
            op: KernelOp::Conv2d {
                x: View::contiguous(0, 0, ElementType::F32, &[1, 2, 9, 9]),
                w: View::contiguous(1, 0, ElementType::F32, &[4, 2, 3, 3]),
                y: View::contiguous(2, 0, ElementType::F32, &[1, 4, 5, 5]),
                strides: [2, 2],
                pads: [1; 4],
                dilations,
                groups: 1,
                gemm: ConvGemm::ChannelRows,
                tile_co: 4,
                tile_oh: 5,
                accumulate: false,
                epilogue: None,
            },
        };
        conv([1, 1]).check().unwrap();
        assert_eq!(
            conv([1 << 40, 1]).check().unwrap_err(),
            "conv2d window is invalid or too large"
        );
        // Only packed weights take the GEMMs that add to the output.
        let mut accumulating = conv([1, 1]);
        if let KernelOp::Conv2d { accumulate, .. } = &mut accumulating.op {
            *accumulate = true;
        }
        assert_eq!(
            accumulating.check().unwrap_err(),
            "a conv2d that accumulates needs packed weights"
        );
        assert_eq!(
            conv([60000, 60000]).check().unwrap_err(),
            "conv2d window reads far more padding than input"
        );
    }

    /// An integer convolution (ui8 by i8) is checked as strictly: a window reading mostly
    /// padding, or an output that does not fit the window, is refused; packed weights must
    /// have the input's channel quads.
    #[cfg(all(feature = "conv", feature = "quantized"))]
    #[test]
    fn crafted_integer_convolutions_are_refused() {
        let conv = |x: [u64; 4], w: View, y: [u64; 4], pads: [u64; 4], dilations: [u64; 2]| {
            let gemm = if w.shape[3] % 4 == 0 && w.shape[1] != w.shape[3] {
                ConvGemm::ChannelQuads
            } else {
                ConvGemm::ChannelRows
            };
            Kernel {
                name: "dispatch_0".into(),
                op: KernelOp::Conv2d {
                    x: View::contiguous(0, 0, ElementType::U8, &x),
                    w,
                    y: View::contiguous(2, 0, ElementType::I32, &y),
                    strides: [1, 1],
                    pads,
                    dilations,
                    groups: 1,
                    gemm,
                    tile_co: 4,
                    tile_oh: 1,
                    accumulate: false,
                    epilogue: None,
                },
            }
            .check()
        };
        let plain = |s: [u64; 4]| View::contiguous(1, 0, ElementType::I8, &s);
        conv(
            [1, 2, 9, 9],
            plain([4, 2, 3, 3]),
            [1, 4, 9, 9],
            [1; 4],
            [1, 1],
        )
        .unwrap();
        // Packed in channel quads: [co, kh, kw, lanes].
        conv(
            [1, 2, 9, 9],
            plain([4, 3, 3, 4]),
            [1, 4, 9, 9],
            [1; 4],
            [1, 1],
        )
        .unwrap();
        assert_eq!(
            conv(
                [1, 2, 9, 9],
                plain([4, 2, 3, 3]),
                [1, 4, 8, 9],
                [1; 4],
                [1, 1]
            )
            .unwrap_err(),
            "conv2d output size does not match its window"
        );
        // One input pixel, 2x2 taps 32767 apart in 16384 padding: 2x2 outputs, and a band
        // of a billion lanes per workgroup.
        assert_eq!(
            conv(
                [1, 2, 1, 1],
                plain([4, 2, 2, 2]),
                [1, 4, 2, 2],
                [16384; 4],
                [32767, 32767]
            )
            .unwrap_err(),
            "conv2d window reads far more padding than input"
        );
        // Integer products store their sums through the epilogue; none adds to its output.
        let mut accumulating = Kernel {
            name: "dispatch_0".into(),
            op: KernelOp::MatMul {
                a: View::contiguous(0, 0, ElementType::U8, &[1, 4, 8]),
                b: View::contiguous(1, 0, ElementType::I8, &[1, 8, 4]),
                c: View::contiguous(2, 0, ElementType::I32, &[1, 4, 4]),
                tile_m: 4,
                tile_n: 4,
                accumulate: false,
                epilogue: None,
            },
        };
        accumulating.check().unwrap();
        if let KernelOp::MatMul { accumulate, .. } = &mut accumulating.op {
            *accumulate = true;
        }
        assert_eq!(
            accumulating.check().unwrap_err(),
            "an integer matmul does not accumulate"
        );
    }

    /// A ConvBand feeds channel rows only: pixel rows read the input planes.
    #[cfg(feature = "conv")]
    #[test]
    fn laid_out_input_needs_channel_rows() {
        let KernelOp::ConvBand { y: band, .. } = conv_band().op else {
            unreachable!()
        };
        let conv = |gemm, strip| Kernel {
            name: "dispatch_1".into(),
            op: KernelOp::Conv2d {
                x: band.clone(),
                w: View::contiguous(2, 0, ElementType::F32, &[1, 1, 2, 3, 3, strip]),
                y: View::contiguous(3, 0, ElementType::F32, &[1, 4, 5, 5]),
                strides: [2, 2],
                pads: [1, 1, 1, 1],
                dilations: [1, 1],
                groups: 1,
                gemm,
                tile_co: 32,
                tile_oh: 5,
                accumulate: false,
                epilogue: None,
            },
        };
        conv(ConvGemm::ChannelRows, 8).check().unwrap();
        assert_eq!(
            conv(ConvGemm::PixelRows, 32).check().unwrap_err(),
            "conv2d input does not agree with its weights and output"
        );
    }

    /// Every cut of an executable's bytes is refused (the reader stops at the first missing
    /// byte, or at a count the bytes left cannot hold), and any byte changed decodes or is
    /// refused: never a panic, whatever the decoder reads after the damage.
    #[test]
    fn damaged_executables_are_refused_without_panicking() {
        let add = Kernel {
            name: "add".into(),
            op: KernelOp::Generic {
                shape: vec![4],
                tile: vec![4],
                reduction_dims: 0,
                reduce: ReduceFn::Sum,
                inputs: vec![f32_view(0, &[4]), f32_view(1, &[4])],
                outputs: vec![f32_view(2, &[4])],
                body: Body {
                    insts: vec![
                        Inst::Input(0),
                        Inst::Input(1),
                        Inst::Binary(BinaryFn::Add, 0, 1),
                    ],
                    results: vec![2],
                },
            },
        };
        let mut kernels = vec![add, softmax_squared().without_epilogue()];
        if cfg!(all(
            feature = "reduction",
            feature = "layer-norm",
            feature = "gather",
            feature = "transcendental"
        )) {
            kernels.extend([
                sum_rows(),
                layer_norm(),
                gather(),
                tanh(),
                softmax_squared(),
            ]);
        }
        let exe = Executable { kernels };
        let bytes = exe.encode();
        assert_eq!(
            Executable::decode(&bytes).map(|e| e.kernels),
            Ok(exe.kernels)
        );
        for cut in 0..bytes.len() {
            let err = Executable::decode(&bytes[..cut]).unwrap_err().to_string();
            assert!(
                err.contains("vmvx executable ends early at byte")
                    || err.contains("vmvx executable table claims"),
                "{err}"
            );
        }
        for at in 0..bytes.len() {
            for value in [0x00, 0x07, 0x80, 0xff] {
                let mut damaged = bytes.clone();
                damaged[at] = value;
                let _ = Executable::decode(&damaged);
            }
        }
    }
}
