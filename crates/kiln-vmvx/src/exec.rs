//! Executes one workgroup of a VMVX kernel over raw binding memory.
//!
//! - Bodies run a row (up to [`ROW`] elements along the innermost dim) at a time: each
//!   instruction processes the whole row, so interpretation overhead is paid per row, not per
//!   element. Floats compute in f32, integers in i64.
//! - Named ops call [`kiln_ukernel`]: the packed GEMM for matmul and convolution (im2col, or the
//!   input itself for 1×1 convolutions), row kernels for the rest.
//! - Memory safety: [`Executable::check_bindings`] (`bindings.rs`) proves once per dispatch
//!   that every view lies inside its binding; workgroups of one dispatch then write disjoint
//!   output tiles, which is what makes concurrent execution sound.

use crate::format::*;
use crate::VmvxError;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
#[cfg(not(feature = "std"))]
use kiln_types::math::Float;
use kiln_ukernel::scratch::Scratch;
use smallvec::SmallVec;

#[cfg(feature = "dynamic-matmul")]
mod attention;
mod bindings;
pub use bindings::BindingNeeds;
#[cfg(feature = "conv")]
mod conv;
#[cfg(feature = "gather")]
mod gather;
#[cfg(feature = "quantized")]
mod integer;
#[cfg(feature = "recurrent")]
mod recurrent;
#[cfg(feature = "reduction")]
mod reduce;
use crate::tiling::Dims;
use kiln_types::ElementType;
use kiln_ukernel::gemm::{Lhs, MatrixMut, Rhs};
use kiln_ukernel::{rows, Kernels, Matrix};

/// Elements per row of body evaluation.
pub const ROW: usize = 256;

/// A dispatch binding: a byte range of device-visible host memory.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    pub ptr: *mut u8,
    pub len: usize,
    /// False for read-only memory (module constants): kernels may not write it.
    pub writable: bool,
}

// SAFETY: a binding is an address range; access is governed by the dispatch contract above.
unsafe impl Send for Binding {}
// SAFETY: as above.
unsafe impl Sync for Binding {}

impl Executable {
    /// Runs workgroup `wg` of kernel `kernel`.
    ///
    /// # Safety
    /// [`Executable::check_bindings`] must have succeeded for these bindings; the bound memory
    /// must stay valid for the call; only workgroups of this same dispatch may run concurrently,
    /// and nothing else may access the bytes the kernel writes.
    pub unsafe fn run_workgroup(
        &self,
        kernel: usize,
        wg: u32,
        bindings: &[Binding],
        kernels: &Kernels,
    ) -> Result<(), VmvxError> {
        let k = &self.kernels[kernel];
        // SAFETY: forwarded contract.
        unsafe { self.run(k, wg, bindings, kernels) }.map_err(|message| VmvxError::Workgroup {
            kernel: k.name.clone(),
            message,
        })
    }

    /// [`Executable::run_workgroup`] with the failure as a message.
    ///
    /// # Safety
    /// As [`Executable::run_workgroup`].
    unsafe fn run(
        &self,
        k: &Kernel,
        wg: u32,
        bindings: &[Binding],
        kernels: &Kernels,
    ) -> Result<(), String> {
        let m = Mem { bindings };
        let wg = wg as u64;
        match &k.op {
            KernelOp::Generic {
                reduction_dims: 0,
                inputs,
                outputs,
                body,
                ..
            } => {
                let (lo, hi) = k.grid().tile_box(wg);
                let ins: Views = inputs.iter().collect();
                let outs: Views = outputs.iter().collect();
                run_box(&m, &ins, &outs, body, &lo, &hi);
            }
            #[cfg(feature = "reduction")]
            KernelOp::Generic {
                shape,
                reduce,
                inputs,
                outputs,
                body,
                ..
            } => {
                let (lo, hi) = k.grid().tile_box(wg);
                let ins: Views = inputs.iter().collect();
                reduce::run_box(&m, &ins, &outputs[0], body, *reduce, shape, &lo, &hi);
            }
            #[cfg(feature = "quantized")]
            KernelOp::MatMul { .. } if k.op.is_integer_product() => {
                return integer::run(&m, k, wg);
            }
            KernelOp::MatMul {
                a,
                b,
                c,
                accumulate,
                epilogue,
                ..
            } => {
                let (lo, hi) = k.grid().tile_box(wg);
                let (bi, m0, n0, m1, n1) = (lo[0], lo[1], lo[2], hi[1], hi[2]);
                let kdim = a.shape[2] as usize;
                let bd = m.f32s(b);
                let am = m.matrix(a, bi, m0, 0);
                let cp = m.f32_ptr(c, &[bi, m0, n0]);
                match packing(&k.op) {
                    Some(packing) => {
                        // Right-hand strips packed at compile time; this tile starts at a
                        // whole strip.
                        let gemm = kernels.for_packing(packing)?;
                        let nr = packing.strip();
                        let strip = (b.offset as i64 + bi as i64 * b.strides[0]) as usize
                            + (n0 as usize / nr) * kdim * nr;
                        // SAFETY: this workgroup owns the output tile [m0, m1) × [n0, n1) of
                        // batch bi.
                        unsafe {
                            gemm.packed_gemm(
                                (m1 - m0) as usize,
                                (n1 - n0) as usize,
                                kdim,
                                Lhs::Matrix(am),
                                Rhs::Packed(&bd[strip..]),
                                MatrixMut::rows(cp, c.strides[1] as usize)
                                    .accumulating(*accumulate),
                            )
                        };
                    }
                    #[cfg(feature = "dynamic-matmul")]
                    None => {
                        let bm = m.matrix(b, bi, 0, n0);
                        // SAFETY: this workgroup owns the output tile [m0, m1) × [n0, n1) of
                        // batch bi.
                        unsafe {
                            kernels.sgemm(
                                (m1 - m0) as usize,
                                (n1 - n0) as usize,
                                kdim,
                                &am,
                                &bm,
                                cp,
                                c.strides[1] as usize,
                                *accumulate,
                            )
                        };
                    }
                    // Refused when the executable was read.
                    #[cfg(not(feature = "dynamic-matmul"))]
                    None => {
                        return Err(kiln_types::message!(
                            "{} is not in this build",
                            k.op.family()
                        ))
                    }
                }
                if let Some(e) = epilogue {
                    run_epilogue(&m, c, e, k, wg);
                }
            }
            #[cfg(feature = "quantized")]
            KernelOp::Conv2d { .. } if k.op.is_integer_product() => {
                return integer::run(&m, k, wg);
            }
            #[cfg(feature = "conv")]
            KernelOp::Conv2d { .. }
            | KernelOp::PointwiseDepthwise { .. }
            | KernelOp::Pool2d { .. }
            | KernelOp::ConvBand { .. } => {
                return conv::run(&m, k, wg, kernels);
            }
            KernelOp::Softmax { x, y, epilogue } => {
                let (o0, o1) = rows(k, wg);
                let (len, inner) = (x.shape[1] as usize, x.shape[2] as usize);
                let xs = m.f32s(x);
                if inner == 1 && x.strides[1] == 1 {
                    // Rows along the last axis: each normalised straight into its output row.
                    for o in o0..o1 {
                        let start = x.offset as i64 + o as i64 * x.strides[0];
                        let out = m.f32_mut(y, o as usize * len, len);
                        rows::softmax_into(&xs[start as usize..][..len], out);
                    }
                } else {
                    let mut row = vec![0.0f32; len];
                    for o in o0..o1 {
                        let out = m.f32_mut(y, o as usize * len * inner, len * inner);
                        for i in 0..inner {
                            let base =
                                x.offset as i64 + o as i64 * x.strides[0] + i as i64 * x.strides[2];
                            for (k, r) in row.iter_mut().enumerate() {
                                *r = xs[(base + k as i64 * x.strides[1]) as usize];
                            }
                            rows::softmax_in_place(&mut row);
                            for (k, r) in row.iter().enumerate() {
                                out[k * inner + i] = *r;
                            }
                        }
                    }
                }
                if let Some(e) = epilogue {
                    run_epilogue(&m, y, e, k, wg);
                }
            }
            #[cfg(feature = "layer-norm")]
            KernelOp::LayerNorm {
                x,
                y,
                epsilon,
                epilogue,
            } => {
                let (r0, r1) = rows(k, wg);
                let len = x.shape[1] as usize;
                let xs = m.f32s(x);
                for r in r0..r1 {
                    let out = m.f32_mut(y, r as usize * len, len);
                    let row = &xs[x.offset as usize + r as usize * len..][..len];
                    rows::layer_norm_into(row, out, *epsilon);
                }
                if let Some(e) = epilogue {
                    run_epilogue(&m, y, e, k, wg);
                }
            }
            #[cfg(feature = "gather")]
            KernelOp::Gather { .. } => return gather::run(&m, k, wg),
            #[cfg(feature = "dynamic-matmul")]
            // SAFETY: forwarded contract.
            KernelOp::Attention { .. } => return unsafe { attention::run(&m, k, wg, kernels) },
            #[cfg(feature = "recurrent")]
            KernelOp::Recurrent { .. } => return recurrent::run(&m, k, wg, kernels),
            // Families this build leaves out, refused above.
            #[cfg(not(all(
                feature = "conv",
                feature = "quantized",
                feature = "reduction",
                feature = "layer-norm",
                feature = "gather",
                feature = "dynamic-matmul",
                feature = "recurrent"
            )))]
            #[allow(unreachable_patterns)]
            _ => {
                return Err(kiln_types::message!(
                    "{} is not in this build",
                    k.op.family()
                ))
            }
        }
        Ok(())
    }
}

/// A workgroup's `i32` sums over its output box: the sum of box point `idx` is at
/// `Σ (idx[d] - lo[d]) · strides[d]`.
#[cfg_attr(not(feature = "quantized"), expect(dead_code))]
struct TileSums<'a> {
    data: &'a [i32],
    lo: Dims<u64>,
    hi: Dims<u64>,
    strides: Dims<u64>,
}

impl TileSums<'_> {
    /// The sums of the `dst.len()` box points from `idx` with the last coordinate `j` on.
    fn load_row(&self, idx: &[u64], j: u64, dst: &mut [i64]) {
        let last = self.lo.len() - 1;
        let start: u64 = (0..last)
            .map(|d| (idx[d] - self.lo[d]) * self.strides[d])
            .sum::<u64>()
            + (j - self.lo[last]) * self.strides[last];
        let step = self.strides[last] as usize;
        for (t, x) in dst.iter_mut().enumerate() {
            *x = self.data[start as usize + t * step] as i64;
        }
    }
}

/// The rows workgroup `wg` of a row-partitioned kernel (softmax, layer norm, gather) owns.
fn rows(k: &Kernel, wg: u64) -> (u64, u64) {
    let (lo, hi) = k.grid().tile_box(wg);
    (lo[0], hi[0])
}

/// Typed, unchecked access to binding memory, valid after `check_bindings`.
struct Mem<'a> {
    bindings: &'a [Binding],
}

impl Mem<'_> {
    fn ptr(&self, v: &View, elem: i64) -> *mut u8 {
        // SAFETY: callers pass element offsets inside the view's span, checked per dispatch.
        unsafe {
            self.bindings[v.binding as usize]
                .ptr
                .add(elem as usize * v.element_type.byte_size())
        }
    }
    /// The whole binding of an f32 view, read-only. Only for bindings no workgroup writes.
    fn f32s(&self, v: &View) -> &[f32] {
        let b = self.bindings[v.binding as usize];
        // SAFETY: f32 views are aligned (checked) and the binding is live and not written.
        unsafe { core::slice::from_raw_parts(b.ptr as *const f32, b.len / 4) }
    }
    /// The whole binding of a byte-sized view, read-only. Only for bindings no workgroup writes.
    #[cfg(feature = "quantized")]
    fn bytes(&self, v: &View) -> &[u8] {
        let b = self.bindings[v.binding as usize];
        // SAFETY: the binding is live and not written.
        unsafe { core::slice::from_raw_parts(b.ptr as *const u8, b.len) }
    }
    /// A writable f32 range owned by the current workgroup.
    #[allow(clippy::mut_from_ref)]
    fn f32_mut(&self, v: &View, start: usize, len: usize) -> &mut [f32] {
        // SAFETY: the range is inside the view and written by this workgroup only.
        unsafe {
            core::slice::from_raw_parts_mut(
                (self.ptr(v, v.offset as i64) as *mut f32).add(start),
                len,
            )
        }
    }
    /// Batch `batch` of a 3-D f32 view as a matrix from element `(row, col)` on, read-only.
    /// Only for bindings no workgroup writes.
    fn matrix(&self, v: &View, batch: u64, row: u64, col: u64) -> Matrix<'_> {
        let at = v.offset as i64
            + batch as i64 * v.strides[0]
            + row as i64 * v.strides[1]
            + col as i64 * v.strides[2];
        Matrix {
            data: self.f32s(v),
            offset: at as usize,
            row_stride: v.strides[1] as usize,
            col_stride: v.strides[2] as usize,
        }
    }
    fn f32_ptr(&self, v: &View, idx: &[u64]) -> *mut f32 {
        let off = v.offset as i64
            + idx
                .iter()
                .zip(&v.strides)
                .map(|(&i, &s)| i as i64 * s)
                .sum::<i64>();
        self.ptr(v, off) as *mut f32
    }
}

/// Reads one element as f64 (exact for every type but i64 beyond 2^53).
///
/// # Safety
/// `p` must point at a readable element of type `t`.
#[cfg(feature = "element-types")]
unsafe fn read(t: ElementType, p: *const u8) -> f64 {
    unsafe {
        match t {
            ElementType::F32 => (p as *const f32).read_unaligned() as f64,
            ElementType::F64 => (p as *const f64).read_unaligned(),
            ElementType::F16 => half::f16::from_bits((p as *const u16).read_unaligned()).to_f64(),
            ElementType::BF16 => half::bf16::from_bits((p as *const u16).read_unaligned()).to_f64(),
            ElementType::I8 => (p as *const i8).read() as f64,
            ElementType::U8 => p.read() as f64,
            ElementType::I16 => (p as *const i16).read_unaligned() as f64,
            ElementType::U16 => (p as *const u16).read_unaligned() as f64,
            ElementType::U32 => (p as *const u32).read_unaligned() as f64,
            ElementType::I32 => (p as *const i32).read_unaligned() as f64,
            // u64 shares i64's registers: its bits, read as i64.
            ElementType::I64 | ElementType::U64 => (p as *const i64).read_unaligned() as f64,
            ElementType::I1 => (p.read() != 0) as u8 as f64,
            // Sub-byte integers and narrow floats' bits, one per byte.
            narrow => narrow.wrap(i64::from(p.read())) as f64,
        }
    }
}

/// A row of register values.
enum Reg {
    F(Vec<f32>),
    I(Vec<i64>),
}

/// Loads `len` elements of `v` starting at element `base`, `stride` apart, into `dst`.
fn load_row(m: &Mem, v: &View, base: i64, stride: i64, len: usize, dst: &mut Reg) {
    let p0 = m.ptr(v, base);
    let es = v.element_type.byte_size() as isize;
    // SAFETY: every element base + j*stride for j < len lies inside the view (checked span).
    let at = |j: usize| unsafe { p0.offset(j as isize * stride as isize * es) };
    match dst {
        Reg::F(d) if v.element_type == ElementType::F32 && stride == 1 => {
            // SAFETY: contiguous in-span f32 elements.
            d[..len].copy_from_slice(unsafe { core::slice::from_raw_parts(p0 as *const f32, len) });
        }
        Reg::F(d) if v.element_type == ElementType::F32 => {
            for (j, x) in d[..len].iter_mut().enumerate() {
                // SAFETY: in-span element.
                *x = unsafe { (at(j) as *const f32).read_unaligned() };
            }
        }
        #[cfg(feature = "element-types")]
        Reg::F(d) => {
            for (j, x) in d[..len].iter_mut().enumerate() {
                // SAFETY: in-span element.
                *x = unsafe { read(v.element_type, at(j)) } as f32;
            }
        }
        #[cfg(feature = "element-types")]
        Reg::I(d) => {
            for (j, x) in d[..len].iter_mut().enumerate() {
                // SAFETY: in-span element; i64 read exactly.
                *x = unsafe {
                    if matches!(v.element_type, ElementType::I64 | ElementType::U64) {
                        (at(j) as *const i64).read_unaligned()
                    } else {
                        read(v.element_type, at(j)) as i64
                    }
                };
            }
        }
        #[cfg(not(feature = "element-types"))]
        _ => unreachable!("element types other than f32 are refused at load"),
    }
}

/// Stores `len` values of `src` into `v` from element `base`, `stride` apart, converting type.
fn store_row(m: &Mem, v: &View, base: i64, stride: i64, len: usize, src: &Reg) {
    let p0 = m.ptr(v, base);
    let step = stride as isize * v.element_type.byte_size() as isize;
    // SAFETY (every arm): elements base + j*stride for j < len lie inside the view (checked
    // span) and belong to this workgroup's output tile.
    unsafe {
        match (src, v.element_type) {
            (Reg::F(s), ElementType::F32) if stride == 1 => {
                core::ptr::copy_nonoverlapping(s.as_ptr(), p0 as *mut f32, len)
            }
            (Reg::F(s), ElementType::F32) => store_each(p0, step, len, |j| s[j]),
            #[cfg(feature = "element-types")]
            (src, t) => store_converted(src, t, p0, step, len),
            #[cfg(not(feature = "element-types"))]
            _ => unreachable!("element types other than f32 are refused at load"),
        }
    }
}

/// Writes `value(j)` for `j < len` at `p0`, `step` bytes apart.
///
/// # Safety
/// Every one of those elements must be writable memory of type `T`.
unsafe fn store_each<T>(p0: *mut u8, step: isize, len: usize, mut value: impl FnMut(usize) -> T) {
    for j in 0..len {
        unsafe { (p0.offset(j as isize * step) as *mut T).write_unaligned(value(j)) };
    }
}

/// [`store_row`] into a view of element type `t` other than f32, converting each value.
///
/// # Safety
/// As [`store_each`], for elements of type `t`.
#[cfg(feature = "element-types")]
unsafe fn store_converted(src: &Reg, t: ElementType, p0: *mut u8, step: isize, len: usize) {
    unsafe {
        match (src, t) {
            (Reg::F(s), ElementType::F64) => store_each(p0, step, len, |j| f64::from(s[j])),
            (Reg::F(s), ElementType::F16) => {
                store_each(p0, step, len, |j| half::f16::from_f32(s[j]).to_bits())
            }
            (Reg::F(s), ElementType::BF16) => {
                store_each(p0, step, len, |j| half::bf16::from_f32(s[j]).to_bits())
            }
            (Reg::I(s), ElementType::I64 | ElementType::U64) => store_each(p0, step, len, |j| s[j]),
            (Reg::I(s), ElementType::I32) => store_each(p0, step, len, |j| s[j] as i32),
            (Reg::I(s), ElementType::I8) => store_each(p0, step, len, |j| s[j] as i8),
            (Reg::I(s), ElementType::U8) => store_each(p0, step, len, |j| s[j] as u8),
            (Reg::I(s), ElementType::I16) => store_each(p0, step, len, |j| s[j] as i16),
            (Reg::I(s), ElementType::U16) => store_each(p0, step, len, |j| s[j] as u16),
            (Reg::I(s), ElementType::U32) => store_each(p0, step, len, |j| s[j] as u32),
            (Reg::I(s), ElementType::I1) => store_each(p0, step, len, |j| (s[j] != 0) as u8),
            (Reg::I(s), t) if t.byte_size() == 1 => {
                let bits = t.int_width().map_or(8, |(bits, _)| bits);
                store_each(p0, step, len, |j| (s[j] & ((1 << bits) - 1)) as u8)
            }
            // Body::check guarantees register kinds match the output types.
            _ => unreachable!("register kind checked against output type"),
        }
    }
}

/// Maximum that propagates NaN, as ONNX Runtime does.
fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.max(b)
    }
}

/// Minimum that propagates NaN.
fn nan_min(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.min(b)
    }
}

/// Applies `f` to a row, with the common functions in their own loops so they vectorise.
fn unary_row(f: UnaryFn, s: &[f32], d: &mut [f32]) {
    let pairs = d.iter_mut().zip(s);
    match f {
        UnaryFn::Relu => pairs.for_each(|(o, &x)| *o = if x > 0.0 || x.is_nan() { x } else { 0.0 }),
        UnaryFn::Neg => pairs.for_each(|(o, &x)| *o = -x),
        UnaryFn::Abs => pairs.for_each(|(o, &x)| *o = x.abs()),
        UnaryFn::Sqrt => pairs.for_each(|(o, &x)| *o = x.sqrt()),
        #[cfg(feature = "transcendental")]
        UnaryFn::Exp => pairs.for_each(|(o, &x)| *o = x.exp()),
        #[cfg(feature = "transcendental")]
        UnaryFn::Erf => pairs.for_each(|(o, &x)| *o = rows::erf(x)),
        #[cfg(feature = "transcendental")]
        UnaryFn::Sigmoid => pairs.for_each(|(o, &x)| *o = sigmoid(x)),
        _ => pairs.for_each(|(o, &x)| *o = unary_f(f, x)),
    }
}

/// `1 / (1 + e^-x)` with the vectorisable [`rows::exp`].
#[cfg(feature = "transcendental")]
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + rows::exp(-x))
}

fn unary_f(f: UnaryFn, x: f32) -> f32 {
    match f {
        UnaryFn::Neg => -x,
        UnaryFn::Abs => x.abs(),
        UnaryFn::Sqrt => x.sqrt(),
        UnaryFn::Relu => nan_max(x, 0.0),
        UnaryFn::Not => (x == 0.0) as u8 as f32,
        UnaryFn::BitNot => unreachable!("bitwise functions take integers (checked at load)"),
        UnaryFn::Floor => x.floor(),
        UnaryFn::Ceil => x.ceil(),
        UnaryFn::Round => kiln_types::math::round_ties_even(x),
        UnaryFn::Sign => {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        }
        #[cfg(feature = "transcendental")]
        transcendental => transcendental_f(transcendental, x),
        #[cfg(not(feature = "transcendental"))]
        _ => unreachable!("kernels computing transcendental functions are refused before they run"),
    }
}

#[cfg(feature = "transcendental")]
fn transcendental_f(f: UnaryFn, x: f32) -> f32 {
    match f {
        UnaryFn::Exp => x.exp(),
        UnaryFn::Log => x.ln(),
        UnaryFn::Erf => rows::erf(x),
        UnaryFn::Sigmoid => sigmoid(x),
        UnaryFn::Tanh => x.tanh(),
        UnaryFn::Sin => x.sin(),
        UnaryFn::Cos => x.cos(),
        UnaryFn::Softplus => {
            if x > 20.0 {
                x
            } else {
                x.exp().ln_1p()
            }
        }
        _ => unreachable!("the other functions are computed in `unary_f`"),
    }
}

fn unary_i(f: UnaryFn, x: i64) -> i64 {
    match f {
        UnaryFn::Neg => x.wrapping_neg(),
        UnaryFn::Abs => x.wrapping_abs(),
        UnaryFn::Relu => x.max(0),
        UnaryFn::Sign => x.signum(),
        UnaryFn::BitNot => !x,
        _ => (x == 0) as i64,
    }
}

fn binary_f(f: BinaryFn, a: f32, b: f32) -> f32 {
    match f {
        BinaryFn::Add => a + b,
        BinaryFn::Sub => a - b,
        BinaryFn::Mul => a * b,
        BinaryFn::Div => a / b,
        #[cfg(feature = "transcendental")]
        BinaryFn::Pow => a.powf(b),
        BinaryFn::Max => nan_max(a, b),
        BinaryFn::Min => nan_min(a, b),
        #[cfg(not(feature = "transcendental"))]
        BinaryFn::Pow => unreachable!("kernels computing pow are refused before they run"),
        _ => unreachable!("predicates produce integer registers"),
    }
}

fn binary_i(f: BinaryFn, a: i64, b: i64) -> i64 {
    match f {
        BinaryFn::Add => a.wrapping_add(b),
        BinaryFn::Sub => a.wrapping_sub(b),
        BinaryFn::Mul => a.wrapping_mul(b),
        BinaryFn::Div => a.checked_div(b).unwrap_or(0),
        BinaryFn::Pow => a.wrapping_pow(b.clamp(0, u32::MAX as i64) as u32),
        BinaryFn::Max => a.max(b),
        BinaryFn::Min => a.min(b),
        BinaryFn::Equal => (a == b) as i64,
        BinaryFn::Less => (a < b) as i64,
        BinaryFn::Greater => (a > b) as i64,
        BinaryFn::And => (a != 0 && b != 0) as i64,
        BinaryFn::Or => (a != 0 || b != 0) as i64,
        bitwise => bitwise
            .bitwise(a, b)
            .expect("the remaining functions are bitwise"),
    }
}

fn predicate_f(f: BinaryFn, a: f32, b: f32) -> i64 {
    (match f {
        BinaryFn::Equal => a == b,
        BinaryFn::Less => a < b,
        BinaryFn::Greater => a > b,
        BinaryFn::And => a != 0.0 && b != 0.0,
        _ => a != 0.0 || b != 0.0,
    }) as i64
}

/// Evaluates `body` on rows of `len` elements; `Input` instructions call `load`, `Index`
/// instructions `index` (a row's coordinates along a dim).
fn eval_body(
    body: &Body,
    regs: &mut [Reg],
    len: usize,
    mut load: impl FnMut(u32, &mut Reg),
    mut index: impl FnMut(u32, &mut Reg),
) {
    for (i, inst) in body.insts.iter().enumerate() {
        let (done, rest) = regs.split_at_mut(i);
        let dst = &mut rest[0];
        match (inst, dst) {
            (Inst::Input(n), d) => load(*n, d),
            (Inst::Index(n), d) => index(*n, d),
            (Inst::ConstF(c), Reg::F(d)) => d[..len].fill(*c),
            (Inst::ConstI(c), Reg::I(d)) => d[..len].fill(*c),
            (Inst::Unary(f, a), d) => match (&done[*a as usize], d) {
                (Reg::F(s), Reg::F(d)) => unary_row(*f, &s[..len], &mut d[..len]),
                (Reg::I(s), Reg::I(d)) => d[..len]
                    .iter_mut()
                    .zip(s)
                    .for_each(|(o, &x)| *o = unary_i(*f, x)),
                _ => unreachable!("kinds checked at load"),
            },
            (Inst::Binary(f, a, b), d) => match (&done[*a as usize], &done[*b as usize], d) {
                (Reg::F(x), Reg::F(y), Reg::F(d)) => match f {
                    BinaryFn::Add => d[..len]
                        .iter_mut()
                        .zip(x.iter().zip(y))
                        .for_each(|(o, (a, b))| *o = a + b),
                    BinaryFn::Mul => d[..len]
                        .iter_mut()
                        .zip(x.iter().zip(y))
                        .for_each(|(o, (a, b))| *o = a * b),
                    BinaryFn::Sub => d[..len]
                        .iter_mut()
                        .zip(x.iter().zip(y))
                        .for_each(|(o, (a, b))| *o = a - b),
                    BinaryFn::Div => d[..len]
                        .iter_mut()
                        .zip(x.iter().zip(y))
                        .for_each(|(o, (a, b))| *o = a / b),
                    _ => d[..len]
                        .iter_mut()
                        .zip(x.iter().zip(y))
                        .for_each(|(o, (&a, &b))| *o = binary_f(*f, a, b)),
                },
                (Reg::F(x), Reg::F(y), Reg::I(d)) => d[..len]
                    .iter_mut()
                    .zip(x.iter().zip(y))
                    .for_each(|(o, (&a, &b))| *o = predicate_f(*f, a, b)),
                (Reg::I(x), Reg::I(y), Reg::I(d)) => d[..len]
                    .iter_mut()
                    .zip(x.iter().zip(y))
                    .for_each(|(o, (&a, &b))| *o = binary_i(*f, a, b)),
                _ => unreachable!("kinds checked at load"),
            },
            (Inst::Select(c, a, b), d) => {
                let Reg::I(c) = &done[*c as usize] else {
                    unreachable!("condition is an integer register")
                };
                match (&done[*a as usize], &done[*b as usize], d) {
                    (Reg::F(x), Reg::F(y), Reg::F(d)) => {
                        (0..len).for_each(|j| d[j] = if c[j] != 0 { x[j] } else { y[j] })
                    }
                    (Reg::I(x), Reg::I(y), Reg::I(d)) => {
                        (0..len).for_each(|j| d[j] = if c[j] != 0 { x[j] } else { y[j] })
                    }
                    _ => unreachable!("kinds checked at load"),
                }
            }
            // Without `element-types` only casts to f32 load (`KernelOp::left_out`).
            #[cfg(not(feature = "element-types"))]
            (Inst::Cast(a, _), Reg::F(d)) => match &done[*a as usize] {
                Reg::F(s) => d[..len].copy_from_slice(&s[..len]),
                Reg::I(s) => d[..len].iter_mut().zip(s).for_each(|(o, &x)| *o = x as f32),
            },
            #[cfg(feature = "element-types")]
            (Inst::Cast(a, t), d) => match (&done[*a as usize], d) {
                (Reg::F(s), Reg::F(d)) => d[..len]
                    .iter_mut()
                    .zip(s)
                    .for_each(|(o, &x)| *o = ElementType::round(*t, x as f64) as f32),
                (Reg::F(s), Reg::I(d)) => d[..len]
                    .iter_mut()
                    .zip(s)
                    .for_each(|(o, &x)| *o = ElementType::round(*t, x as f64) as i64),
                (Reg::I(s), Reg::F(d)) => d[..len]
                    .iter_mut()
                    .zip(s)
                    .for_each(|(o, &x)| *o = ElementType::round(*t, x as f64) as f32),
                (Reg::I(s), Reg::I(d)) => d[..len].iter_mut().zip(s).for_each(|(o, &x)| {
                    *o = match t {
                        ElementType::I1 => (x != 0) as i64,
                        int => int.wrap(x),
                    }
                }),
            },
            _ => unreachable!("kinds checked at load"),
        }
    }
}

/// The views of one kernel or epilogue (at most 16 leaves and the output, as formed).
type Views<'a> = SmallVec<[&'a View; 18]>;

/// Register rows kept for reuse, so that running a body allocates nothing once a thread has
/// run bodies as wide as it.
#[derive(Default)]
struct RegisterPool {
    kinds: Vec<RegKind>,
    files: Vec<Vec<Reg>>,
    floats: Vec<Vec<f32>>,
    ints: Vec<Vec<i64>>,
}

kiln_ukernel::scratch! {
    static REGISTERS: RegisterPool;
}

/// Runs `f` with `body`'s registers (input 0 of type `first` when given, not its view's),
/// their rows taken from this thread's pool and given back after.
fn with_registers<R>(
    body: &Body,
    inputs: &[&View],
    outputs: &[&View],
    first: Option<ElementType>,
    f: impl FnOnce(&mut [Reg]) -> R,
) -> R {
    let mut it: SmallVec<[ElementType; 18]> = inputs.iter().map(|v| v.element_type).collect();
    if let (Some(t), Some(slot)) = (first, it.first_mut()) {
        *slot = t;
    }
    let ot: SmallVec<[ElementType; 4]> = outputs.iter().map(|v| v.element_type).collect();
    let mut file = REGISTERS.with_mut(|pool| {
        body.check_into(&it, &ot, &mut pool.kinds)
            .expect("checked at load");
        let mut file = pool.files.pop().unwrap_or_default();
        file.extend(pool.kinds.iter().map(|k| match k {
            RegKind::F => Reg::F(pool.floats.pop().unwrap_or_else(|| vec![0.0; ROW])),
            RegKind::I => Reg::I(pool.ints.pop().unwrap_or_else(|| vec![0; ROW])),
        }));
        file
    });
    let result = f(&mut file);
    REGISTERS.with_mut(|pool| {
        for reg in file.drain(..) {
            match reg {
                Reg::F(row) => pool.floats.push(row),
                Reg::I(row) => pool.ints.push(row),
            }
        }
        pool.files.push(file);
    });
    result
}

/// Element offset of `v` at multi-index `idx` (trailing dims absent count as 0).
fn offset_at(v: &View, idx: &[u64]) -> i64 {
    v.offset as i64
        + idx
            .iter()
            .zip(&v.strides)
            .map(|(&i, &s)| i as i64 * s)
            .sum::<i64>()
}

/// Visits every multi-index in `[lo, hi)` over all dims but the last, in row-major order.
fn for_each_outer(lo: &[u64], hi: &[u64], mut f: impl FnMut(&[u64])) {
    let r = lo.len();
    if r == 0 || (0..r).any(|d| lo[d] >= hi[d]) {
        if r == 0 {
            f(&[]);
        }
        return;
    }
    let mut idx: Dims<u64> = lo.iter().copied().collect();
    loop {
        f(&idx);
        let mut d = r - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < hi[d] {
                break;
            }
            idx[d] = lo[d];
        }
    }
}

/// A row's coordinates along `dim` into `d`: `start, start+1, …` along the row's (last) dim,
/// the row's own coordinate `idx[dim]` along the others.
fn coordinates(idx: &[u64], dim: usize, start: u64, len: usize, d: &mut Reg) {
    let Reg::I(d) = d else {
        unreachable!("coordinates are integers (checked at load)")
    };
    if dim + 1 == idx.len() {
        (0..len).for_each(|t| d[t] = (start + t as u64) as i64);
    } else {
        d[..len].fill(idx.get(dim).copied().unwrap_or(0) as i64);
    }
}

/// Runs an elementwise body over the box `[lo, hi)` (every view indexed by the box's coords).
fn run_box(m: &Mem, inputs: &[&View], outputs: &[&View], body: &Body, lo: &[u64], hi: &[u64]) {
    run_box_from(m, inputs, outputs, body, lo, hi, None);
}

/// [`run_box`], input 0 read from `sums` when given (its view then only names the box).
fn run_box_from(
    m: &Mem,
    inputs: &[&View],
    outputs: &[&View],
    body: &Body,
    lo: &[u64],
    hi: &[u64],
    sums: Option<&TileSums>,
) {
    let first = sums.map(|_| ElementType::I32);
    with_registers(body, inputs, outputs, first, |regs| {
        run_rows(m, inputs, outputs, body, lo, hi, sums, regs)
    });
}

/// [`run_box_from`] with its registers.
#[allow(clippy::too_many_arguments)]
fn run_rows(
    m: &Mem,
    inputs: &[&View],
    outputs: &[&View],
    body: &Body,
    lo: &[u64],
    hi: &[u64],
    sums: Option<&TileSums>,
    regs: &mut [Reg],
) {
    let r = lo.len();
    for_each_outer(lo, hi, |idx| {
        let (start, end) = if r == 0 {
            (0, 1)
        } else {
            (lo[r - 1], hi[r - 1])
        };
        let inner = |v: &View| if r == 0 { 0 } else { v.strides[r - 1] };
        // Element offset of each view at the row's start, advanced along the row.
        let starts: SmallVec<[i64; 24]> = inputs
            .iter()
            .chain(outputs)
            .map(|v| offset_at(v, idx))
            .collect();
        let mut j = start;
        while j < end {
            let len = ROW.min((end - j) as usize);
            let step = (j - start) as i64;
            eval_body(
                body,
                regs,
                len,
                |n, d| match (n, sums, &mut *d) {
                    (0, Some(t), Reg::I(d)) => t.load_row(idx, j, &mut d[..len]),
                    _ => {
                        let v = inputs[n as usize];
                        load_row(m, v, starts[n as usize] + step * inner(v), inner(v), len, d);
                    }
                },
                |dim, d| coordinates(idx, dim as usize, j, len, d),
            );
            for (k, (v, &res)) in outputs.iter().zip(&body.results).enumerate() {
                store_row(
                    m,
                    v,
                    starts[inputs.len() + k] + step * inner(v),
                    inner(v),
                    len,
                    &regs[res as usize],
                );
            }
            j += len as u64;
        }
    });
}

/// Applies an epilogue in place over workgroup `wg`'s output box ([`Kernel::output_box`]).
fn run_epilogue(m: &Mem, out: &View, e: &Epilogue, k: &Kernel, wg: u64) {
    run_epilogue_from(m, out, e, k, wg, None);
}

/// [`run_epilogue`], the op's result read from `sums` when given.
fn run_epilogue_from(
    m: &Mem,
    out: &View,
    e: &Epilogue,
    k: &Kernel,
    wg: u64,
    sums: Option<&TileSums>,
) {
    let Some((lo, hi)) = k.output_box(wg) else {
        return;
    };
    let mut inputs: Views = smallvec::smallvec![out];
    inputs.extend(e.inputs.iter());
    run_box_from(m, &inputs, &[out], &e.body, &lo, &hi, sums);
}
