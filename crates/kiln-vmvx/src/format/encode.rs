//! The VMVX byte encoding: [`Executable::encode`] and [`Executable::decode`] (which checks
//! every kernel before returning).

use super::*;
use crate::VmvxError;
use kiln_module::{ByteReader, ByteWriter};

impl Executable {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = ByteWriter::default();
        w.u32(VERSION);
        w.u32(self.kernels.len() as u32);
        for k in &self.kernels {
            w.str(&k.name);
            encode_op(&mut w, &k.op);
        }
        w.bytes
    }

    /// Decodes and checks an executable; errors say what is wrong and where.
    pub fn decode(bytes: &[u8]) -> Result<Executable, VmvxError> {
        let mut r = ByteReader::new(bytes, "vmvx executable");
        let mut inner = || -> Result<Executable, ModuleError> {
            let version = r.u32()?;
            if version != VERSION {
                return Err(ModuleError::Invalid(format!(
                    "vmvx executable version {version}, expected {VERSION}"
                )));
            }
            let n = r.len(8)?;
            let mut kernels = Vec::with_capacity(n);
            for _ in 0..n {
                let name = r.str()?;
                let op = decode_op(&mut r)?;
                kernels.push(Kernel { name, op });
            }
            Ok(Executable { kernels })
        };
        let exe = inner()?;
        for k in &exe.kernels {
            k.check().map_err(|message| VmvxError::InvalidKernel {
                kernel: k.name.clone(),
                message,
            })?;
        }
        Ok(exe)
    }
}

fn encode_view(w: &mut ByteWriter, v: &View) {
    w.u32(v.binding);
    w.u64(v.offset);
    w.u8(v.element_type.code());
    w.u64s(&v.shape);
    w.i64s(&v.strides);
}

fn decode_view(r: &mut ByteReader) -> Result<View, ModuleError> {
    Ok(View {
        binding: r.u32()?,
        offset: r.u64()?,
        element_type: r.element_type()?,
        shape: r.u64s()?,
        strides: r.i64s()?,
    })
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
        }
    }
    w.u32(b.results.len() as u32);
    b.results.iter().for_each(|&r| w.u32(r));
}

fn decode_body(r: &mut ByteReader) -> Result<Body, ModuleError> {
    let n = r.len(2)?;
    let mut insts = Vec::with_capacity(n);
    for _ in 0..n {
        insts.push(match r.u8()? {
            0 => Inst::Input(r.u32()?),
            1 => Inst::ConstF(r.f32()?),
            2 => Inst::ConstI(r.i64()?),
            3 => Inst::Unary(scalar_fn(r.u8()?, UnaryFn::from_code, "UnaryFn")?, r.u32()?),
            4 => Inst::Binary(
                scalar_fn(r.u8()?, BinaryFn::from_code, "BinaryFn")?,
                r.u32()?,
                r.u32()?,
            ),
            5 => Inst::Select(r.u32()?, r.u32()?, r.u32()?),
            6 => Inst::Cast(r.u32()?, r.element_type()?),
            t => {
                return Err(ModuleError::Invalid(format!(
                    "unknown body instruction {t}"
                )))
            }
        });
    }
    let nr = r.len(4)?;
    let results = (0..nr).map(|_| r.u32()).collect::<Result<_, _>>()?;
    Ok(Body { insts, results })
}

fn encode_epilogue(w: &mut ByteWriter, e: &Option<Epilogue>) {
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

fn decode_epilogue(r: &mut ByteReader) -> Result<Option<Epilogue>, ModuleError> {
    if r.u8()? == 0 {
        return Ok(None);
    }
    let n = r.len(16)?;
    let inputs = (0..n).map(|_| decode_view(r)).collect::<Result<_, _>>()?;
    Ok(Some(Epilogue {
        inputs,
        body: decode_body(r)?,
    }))
}

fn views(w: &mut ByteWriter, vs: &[&View]) {
    vs.iter().for_each(|v| encode_view(w, v));
}

fn encode_op(w: &mut ByteWriter, op: &KernelOp) {
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
            w.u64s(shape);
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
            epilogue,
        } => {
            w.u8(1);
            views(w, &[a, b, c]);
            w.u64(*tile_m);
            w.u64(*tile_n);
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
            });
            w.u64(*tile_co);
            w.u64(*tile_oh);
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
    }
}

fn arr<const N: usize>(r: &mut ByteReader) -> Result<[u64; N], ModuleError> {
    let mut a = [0; N];
    for v in &mut a {
        *v = r.u64()?;
    }
    Ok(a)
}

fn decode_op(r: &mut ByteReader) -> Result<KernelOp, ModuleError> {
    Ok(match r.u8()? {
        0 => {
            let shape = r.u64s()?;
            let tile = r.u64s()?;
            let reduction_dims = r.u32()?;
            let reduce = scalar_fn(r.u8()?, ReduceFn::from_code, "ReduceFn")?;
            let mut vs = [vec![], vec![]];
            for v in &mut vs {
                let n = r.len(16)?;
                *v = (0..n).map(|_| decode_view(r)).collect::<Result<_, _>>()?;
            }
            let [inputs, outputs] = vs;
            KernelOp::Generic {
                shape,
                tile,
                reduction_dims,
                reduce,
                inputs,
                outputs,
                body: decode_body(r)?,
            }
        }
        1 => KernelOp::MatMul {
            a: decode_view(r)?,
            b: decode_view(r)?,
            c: decode_view(r)?,
            tile_m: r.u64()?,
            tile_n: r.u64()?,
            epilogue: decode_epilogue(r)?,
        },
        2 => KernelOp::Conv2d {
            x: decode_view(r)?,
            w: decode_view(r)?,
            y: decode_view(r)?,
            strides: arr(r)?,
            pads: arr(r)?,
            dilations: arr(r)?,
            groups: r.u64()?,
            gemm: match r.u8()? {
                0 => ConvGemm::ChannelRows,
                1 => ConvGemm::PixelRows,
                other => {
                    return Err(ModuleError::Invalid(format!(
                        "conv2d GEMM orientation {other} is not 0 or 1"
                    )))
                }
            },
            tile_co: r.u64()?,
            tile_oh: r.u64()?,
            epilogue: decode_epilogue(r)?,
        },
        3 => KernelOp::Pool2d {
            x: decode_view(r)?,
            y: decode_view(r)?,
            max: r.u8()? != 0,
            kernel: arr(r)?,
            strides: arr(r)?,
            pads: arr(r)?,
            count_include_pad: r.u8()? != 0,
            epilogue: decode_epilogue(r)?,
        },
        4 => KernelOp::Softmax {
            x: decode_view(r)?,
            y: decode_view(r)?,
            epilogue: decode_epilogue(r)?,
        },
        5 => KernelOp::LayerNorm {
            x: decode_view(r)?,
            y: decode_view(r)?,
            epsilon: r.f32()?,
            epilogue: decode_epilogue(r)?,
        },
        6 => KernelOp::Gather {
            data: decode_view(r)?,
            indices: decode_view(r)?,
            out: decode_view(r)?,
        },
        7 => KernelOp::ConvBand {
            x: decode_view(r)?,
            y: decode_view(r)?,
            kernel: arr(r)?,
            strides: arr(r)?,
            pads: arr(r)?,
            dilations: arr(r)?,
            out: arr(r)?,
        },
        t => return Err(ModuleError::Invalid(format!("unknown kernel op {t}"))),
    })
}
