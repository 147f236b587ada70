//! The VMVX byte encoding: [`Executable::encode`] and [`Executable::decode`] (which checks
//! every kernel before returning). After the version, one byte says how sizes are written:
//! 0 as numbers, 1 as the text of expressions over symbols (an `Executable<Symbolic>`, whose
//! kernels are checked once bound, per dispatch).

use super::*;
use crate::VmvxError;
use alloc::string::ToString;
use alloc::vec::Vec;
use kiln_module::{ByteReader, ByteWriter};
use kiln_types::sizes::Symbolic;
use kiln_types::sym::SymExpr;

/// How a size family is written in an executable.
pub trait SizeCodec: Sizes {
    /// The byte after the version that marks this family.
    const TAG: u8;
    fn write_extent(w: &mut ByteWriter, e: &Self::Extent);
    fn write_stride(w: &mut ByteWriter, s: &Self::Stride);
    fn read_extent(r: &mut ByteReader) -> Self::Extent;
    fn read_stride(r: &mut ByteReader) -> Self::Stride;
}

impl SizeCodec for Static {
    const TAG: u8 = 0;
    fn write_extent(w: &mut ByteWriter, e: &u64) {
        w.u64(*e);
    }
    fn write_stride(w: &mut ByteWriter, s: &i64) {
        w.i64(*s);
    }
    fn read_extent(r: &mut ByteReader) -> u64 {
        r.u64()
    }
    fn read_stride(r: &mut ByteReader) -> i64 {
        r.i64()
    }
}

impl SizeCodec for Symbolic {
    const TAG: u8 = 1;
    fn write_extent(w: &mut ByteWriter, e: &SymExpr) {
        w.str(&e.to_string());
    }
    fn write_stride(w: &mut ByteWriter, s: &SymExpr) {
        w.str(&s.to_string());
    }
    fn read_extent(r: &mut ByteReader) -> SymExpr {
        r.expr()
    }
    fn read_stride(r: &mut ByteReader) -> SymExpr {
        r.expr()
    }
}

impl<Z: SizeCodec> Executable<Z> {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = ByteWriter::default();
        w.u32(VERSION);
        w.u8(Z::TAG);
        w.u32(self.kernels.len() as u32);
        for k in &self.kernels {
            w.str(&k.name);
            encode_op(&mut w, &k.op);
        }
        w.bytes
    }

    /// Decodes the kernels, unchecked.
    fn decode_unchecked(bytes: &[u8]) -> Result<Executable<Z>, ModuleError> {
        let mut r = ByteReader::new(bytes, "vmvx executable");
        let version = r.u32();
        if version != VERSION {
            r.invalid(kiln_types::message!(
                "vmvx executable version {version}, expected {VERSION}"
            ));
        }
        let tag = r.u8();
        if tag != Z::TAG {
            r.invalid(kiln_types::message!(
                "vmvx executable sizes are of kind {tag}, expected {}",
                Z::TAG
            ));
        }
        let kernels = r.list_until_refused(8, |r| {
            let name = r.str();
            decode_op(r).map(|op| Kernel { name, op })
        });
        r.finish(Executable { kernels })
    }
}

impl Executable {
    /// Decodes and checks an executable; errors say what is wrong and where.
    pub fn decode(bytes: &[u8]) -> Result<Executable, VmvxError> {
        let exe = Self::decode_unchecked(bytes)?;
        exe.check_built()?;
        for k in &exe.kernels {
            k.check().map_err(|message| VmvxError::InvalidKernel {
                kernel: k.name.clone(),
                message,
            })?;
        }
        Ok(exe)
    }
}

impl Executable<Symbolic> {
    /// Decodes an executable whose sizes are expressions; each kernel is checked when a
    /// dispatch binds it ([`Kernel::bind`]).
    pub fn decode_symbolic(bytes: &[u8]) -> Result<Executable<Symbolic>, VmvxError> {
        let exe = Self::decode_unchecked(bytes)?;
        exe.check_built()?;
        Ok(exe)
    }
}

impl<Z: Sizes> Executable<Z> {
    /// Refuses an executable with a kernel that needs what this build leaves out.
    fn check_built(&self) -> Result<(), VmvxError> {
        self.kernels.iter().try_for_each(Kernel::built)
    }
}

/// True when `bytes` hold a VMVX executable whose sizes are expressions over symbols.
pub fn is_symbolic(bytes: &[u8]) -> bool {
    bytes.get(4) == Some(&Symbolic::TAG)
}

fn encode_view<Z: SizeCodec>(w: &mut ByteWriter, v: &View<Z>) {
    w.u32(v.binding);
    Z::write_extent(w, &v.offset);
    w.u8(v.element_type.code());
    w.u32(v.shape.len() as u32);
    v.shape.iter().for_each(|d| Z::write_extent(w, d));
    w.u32(v.strides.len() as u32);
    v.strides.iter().for_each(|s| Z::write_stride(w, s));
}

fn decode_view<Z: SizeCodec>(r: &mut ByteReader) -> View<Z> {
    View {
        binding: r.u32(),
        offset: Z::read_extent(r),
        element_type: r.element_type(),
        shape: r.list(1, Z::read_extent),
        strides: r.list(1, Z::read_stride),
    }
}

fn encode_body(w: &mut ByteWriter, b: &Body) {
    w.u32(b.insts.len() as u32);
    for i in &b.insts {
        match i {
            Inst::Input(n) => {
                w.u8(0);
                w.u32(*n);
            }
            Inst::ConstF(v) => {
                w.u8(1);
                w.f32(*v);
            }
            Inst::ConstI(v) => {
                w.u8(2);
                w.i64(*v);
            }
            Inst::Unary(f, a) => {
                w.u8(3);
                w.u8(f.code());
                w.u32(*a);
            }
            Inst::Binary(f, a, b) => {
                w.u8(4);
                w.u8(f.code());
                w.u32(*a);
                w.u32(*b);
            }
            Inst::Select(c, a, b) => {
                w.u8(5);
                w.u32(*c);
                w.u32(*a);
                w.u32(*b);
            }
            Inst::Cast(a, t) => {
                w.u8(6);
                w.u32(*a);
                w.u8(t.code());
            }
            Inst::Index(n) => {
                w.u8(7);
                w.u32(*n);
            }
        }
    }
    w.u32(b.results.len() as u32);
    b.results.iter().for_each(|&r| w.u32(r));
}

fn decode_body(r: &mut ByteReader) -> Body {
    Body {
        insts: r.list_until_refused(2, decode_inst),
        results: r.list(4, ByteReader::u32),
    }
}

/// One body instruction; `None` (with the reader refusing it) for an unknown one.
fn decode_inst(r: &mut ByteReader) -> Option<Inst> {
    Some(match r.u8() {
        0 => Inst::Input(r.u32()),
        1 => Inst::ConstF(r.f32()),
        2 => Inst::ConstI(r.i64()),
        3 => Inst::Unary(scalar_fn(r, UnaryFn::from_code, "UnaryFn")?, r.u32()),
        4 => Inst::Binary(
            scalar_fn(r, BinaryFn::from_code, "BinaryFn")?,
            r.u32(),
            r.u32(),
        ),
        5 => Inst::Select(r.u32(), r.u32(), r.u32()),
        6 => Inst::Cast(r.u32(), r.element_type()),
        7 => Inst::Index(r.u32()),
        t => {
            r.invalid(kiln_types::message!("unknown body instruction {t}"));
            return None;
        }
    })
}

fn encode_epilogue<Z: SizeCodec>(w: &mut ByteWriter, e: &Option<Epilogue<Z>>) {
    match e {
        None => w.u8(0),
        Some(e) => {
            w.u8(1);
            w.u32(e.inputs.len() as u32);
            e.inputs.iter().for_each(|v| encode_view(w, v));
            encode_body(w, &e.body);
        }
    }
}

fn decode_epilogue<Z: SizeCodec>(r: &mut ByteReader) -> Option<Epilogue<Z>> {
    if r.u8() == 0 {
        return None;
    }
    Some(Epilogue {
        inputs: r.list(16, decode_view),
        body: decode_body(r),
    })
}

fn views<Z: SizeCodec>(w: &mut ByteWriter, vs: &[&View<Z>]) {
    vs.iter().for_each(|v| encode_view(w, v));
}

fn encode_op<Z: SizeCodec>(w: &mut ByteWriter, op: &KernelOp<Z>) {
    match op {
        KernelOp::Generic {
            shape,
            tile,
            reduction_dims,
            reduce,
            inputs,
            outputs,
            body,
        } => {
            w.u8(0);
            w.u32(shape.len() as u32);
            shape.iter().for_each(|d| Z::write_extent(w, d));
            w.u64s(tile);
            w.u32(*reduction_dims);
            w.u8(reduce.code());
            for vs in [inputs, outputs] {
                w.u32(vs.len() as u32);
                vs.iter().for_each(|v| encode_view(w, v));
            }
            encode_body(w, body);
        }
        KernelOp::MatMul {
            a,
            b,
            c,
            tile_m,
            tile_n,
            accumulate,
            epilogue,
        } => {
            w.u8(1);
            views(w, &[a, b, c]);
            w.u64(*tile_m);
            w.u64(*tile_n);
            w.u8(*accumulate as u8);
            encode_epilogue(w, epilogue);
        }
        KernelOp::Conv2d {
            x,
            w: wt,
            y,
            strides,
            pads,
            dilations,
            groups,
            gemm,
            tile_co,
            tile_oh,
            accumulate,
            epilogue,
        } => {
            w.u8(2);
            views(w, &[x, wt, y]);
            strides
                .iter()
                .chain(pads)
                .chain(dilations)
                .for_each(|&v| w.u64(v));
            w.u64(*groups);
            w.u8(match gemm {
                ConvGemm::ChannelRows => 0,
                ConvGemm::PixelRows => 1,
                ConvGemm::ChannelQuads => 2,
            });
            w.u64(*tile_co);
            w.u64(*tile_oh);
            w.u8(*accumulate as u8);
            encode_epilogue(w, epilogue);
        }
        KernelOp::Pool2d {
            x,
            y,
            max,
            kernel,
            strides,
            pads,
            count_include_pad,
            epilogue,
        } => {
            w.u8(3);
            views(w, &[x, y]);
            w.u8(*max as u8);
            kernel
                .iter()
                .chain(strides)
                .chain(pads)
                .for_each(|&v| w.u64(v));
            w.u8(*count_include_pad as u8);
            encode_epilogue(w, epilogue);
        }
        KernelOp::Softmax { x, y, epilogue } => {
            w.u8(4);
            views(w, &[x, y]);
            encode_epilogue(w, epilogue);
        }
        KernelOp::LayerNorm {
            x,
            y,
            epsilon,
            epilogue,
        } => {
            w.u8(5);
            views(w, &[x, y]);
            w.f32(*epsilon);
            encode_epilogue(w, epilogue);
        }
        KernelOp::Gather { data, indices, out } => {
            w.u8(6);
            views(w, &[data, indices, out]);
        }
        KernelOp::ConvBand {
            x,
            y,
            kernel,
            strides,
            pads,
            dilations,
            out,
        } => {
            w.u8(7);
            views(w, &[x, y]);
            kernel
                .iter()
                .chain(strides)
                .chain(pads)
                .chain(dilations)
                .chain(out)
                .for_each(|&v| w.u64(v));
        }
        KernelOp::Attention {
            q,
            k,
            v,
            out,
            scores,
            tile_m,
        } => {
            w.u8(8);
            views(w, &[q, k, v, out]);
            w.u64(*tile_m);
            encode_epilogue(w, scores);
        }
        KernelOp::Recurrent {
            proj,
            weights,
            h0,
            c0,
            biases,
            y,
            cell,
        } => {
            w.u8(9);
            views(w, &[proj, weights, h0, c0, biases, y]);
            let mut bytes = Vec::new();
            cell.encode(&mut bytes);
            w.blob(&bytes);
        }
        KernelOp::PointwiseDepthwise {
            x,
            expand,
            steps,
            w: wt,
            y,
            strides,
            pads,
            dilations,
            tile_co,
            tile_oh,
            epilogue,
        } => {
            w.u8(10);
            views(w, &[x, expand, wt, y]);
            strides
                .iter()
                .chain(pads)
                .chain(dilations)
                .for_each(|&v| w.u64(v));
            w.u64(*tile_co);
            w.u64(*tile_oh);
            encode_epilogue(w, steps);
            encode_epilogue(w, epilogue);
        }
    }
}

fn arr<const N: usize>(r: &mut ByteReader) -> [u64; N] {
    [(); N].map(|()| r.u64())
}

/// One kernel's op; `None` (with the reader refusing it) for an unknown one.
fn decode_op<Z: SizeCodec>(r: &mut ByteReader) -> Option<KernelOp<Z>> {
    Some(match r.u8() {
        0 => {
            let shape = r.list(1, Z::read_extent);
            let tile = r.u64s();
            let reduction_dims = r.u32();
            let reduce = scalar_fn(r, ReduceFn::from_code, "ReduceFn")?;
            let [inputs, outputs] = [(); 2].map(|()| r.list(16, decode_view));
            KernelOp::Generic {
                shape,
                tile,
                reduction_dims,
                reduce,
                inputs,
                outputs,
                body: decode_body(r),
            }
        }
        1 => KernelOp::MatMul {
            a: decode_view(r),
            b: decode_view(r),
            c: decode_view(r),
            tile_m: r.u64(),
            tile_n: r.u64(),
            accumulate: r.u8() != 0,
            epilogue: decode_epilogue(r),
        },
        2 => KernelOp::Conv2d {
            x: decode_view(r),
            w: decode_view(r),
            y: decode_view(r),
            strides: arr(r),
            pads: arr(r),
            dilations: arr(r),
            groups: r.u64(),
            gemm: match r.u8() {
                0 => ConvGemm::ChannelRows,
                1 => ConvGemm::PixelRows,
                2 => ConvGemm::ChannelQuads,
                other => {
                    r.invalid(kiln_types::message!(
                        "conv2d GEMM orientation {other} is not 0, 1 or 2"
                    ));
                    return None;
                }
            },
            tile_co: r.u64(),
            tile_oh: r.u64(),
            accumulate: r.u8() != 0,
            epilogue: decode_epilogue(r),
        },
        3 => KernelOp::Pool2d {
            x: decode_view(r),
            y: decode_view(r),
            max: r.u8() != 0,
            kernel: arr(r),
            strides: arr(r),
            pads: arr(r),
            count_include_pad: r.u8() != 0,
            epilogue: decode_epilogue(r),
        },
        4 => KernelOp::Softmax {
            x: decode_view(r),
            y: decode_view(r),
            epilogue: decode_epilogue(r),
        },
        5 => KernelOp::LayerNorm {
            x: decode_view(r),
            y: decode_view(r),
            epsilon: r.f32(),
            epilogue: decode_epilogue(r),
        },
        6 => KernelOp::Gather {
            data: decode_view(r),
            indices: decode_view(r),
            out: decode_view(r),
        },
        7 => KernelOp::ConvBand {
            x: decode_view(r),
            y: decode_view(r),
            kernel: arr(r),
            strides: arr(r),
            pads: arr(r),
            dilations: arr(r),
            out: arr(r),
        },
        8 => KernelOp::Attention {
            q: decode_view(r),
            k: decode_view(r),
            v: decode_view(r),
            out: decode_view(r),
            tile_m: r.u64(),
            scores: decode_epilogue(r),
        },
        9 => {
            let [proj, weights, h0, c0, biases, y] = core::array::from_fn(|_| decode_view(r));
            let cell = match RecurrentCell::decode(&r.blob()) {
                Ok((cell, _)) => cell,
                Err(m) => {
                    r.invalid(m);
                    return None;
                }
            };
            KernelOp::Recurrent {
                proj,
                weights,
                h0,
                c0,
                biases,
                y,
                cell,
            }
        }
        10 => {
            let [x, expand, w, y] = core::array::from_fn(|_| decode_view(r));
            KernelOp::PointwiseDepthwise {
                x,
                expand,
                w,
                y,
                strides: arr(r),
                pads: arr(r),
                dilations: arr(r),
                tile_co: r.u64(),
                tile_oh: r.u64(),
                steps: decode_epilogue(r),
                epilogue: decode_epilogue(r),
            }
        }
        t => {
            r.invalid(kiln_types::message!("unknown kernel op {t}"));
            return None;
        }
    })
}
