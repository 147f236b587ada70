//! The kernel IR's text form: what `kiln-compile --compile-to=dispatch-creation` prints.
//!
//! ```text
//! %s0 = param 0 [6272xf32]
//! %s1 = constant 0 [100352xf32]
//! %s2 = computed [1024xf32]
//! dispatch_0(%s0, %s1, %s2) = matmul #0[1x8x784xf32], #1[1x784x128xf32] -> #2[1x8x128xf32]
//! return %s2
//! ```
//!
//! A view prints as `#operand[shape x type]`, then `+offset` and `/strides` when they are not
//! the contiguous default; a body as `{ r0 = in0; r1 = relu r0; yield r1 }`.

use crate::{Dispatch, Dispatches, Epilogue, Op, Sizes, Storage, StorageKind, View};
use std::fmt::{self, Display, Formatter};

impl<Z: Sizes> Display for View<Z> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let dims: String = self
            .shape
            .iter()
            .map(|d| format!("{}x", Z::extent_text(d)))
            .collect();
        write!(f, "#{}[{dims}{}]", self.operand, self.element_type)?;
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

fn list<Z: Sizes>(views: &[View<Z>]) -> String {
    views
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn epilogue<Z: Sizes>(e: &Option<Epilogue<Z>>) -> String {
    match e {
        Some(e) => format!(" epilogue({}) {}", list(&e.inputs), e.body),
        None => String::new(),
    }
}

impl<Z: Sizes> Display for Op<Z> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match self {
            Op::Generic {
                shape,
                reduction_dims,
                reduce,
                inputs,
                outputs,
                body,
            } => {
                let dims: Vec<String> = shape.iter().map(Z::extent_text).collect();
                write!(f, "{name} [{}]", dims.join("x"))?;
                if *reduction_dims > 0 {
                    write!(f, " reduce {reduce} over last {reduction_dims}")?;
                }
                write!(f, " ({}) -> ({}) {body}", list(inputs), list(outputs))
            }
            Op::MatMul {
                a,
                b,
                c,
                epilogue: e,
            } => write!(f, "{name} {a}, {b} -> {c}{}", epilogue(e)),
            Op::Conv2d {
                x,
                w,
                y,
                strides,
                pads,
                dilations,
                groups,
                epilogue: e,
            } => write!(
                f,
                "{name} {x}, {w} -> {y} strides {strides:?} pads {pads:?} dilations {dilations:?} groups {groups}{}",
                epilogue(e)
            ),
            Op::Pool2d {
                x,
                y,
                max,
                kernel,
                strides,
                pads,
                count_include_pad,
                epilogue: e,
            } => write!(
                f,
                "{name} {} {x} -> {y} kernel {kernel:?} strides {strides:?} pads {pads:?}{}{}",
                if *max { "max" } else { "avg" },
                if *count_include_pad {
                    " count_include_pad"
                } else {
                    ""
                },
                epilogue(e)
            ),
            Op::Softmax { x, y, epilogue: e } => write!(f, "{name} {x} -> {y}{}", epilogue(e)),
            Op::LayerNorm {
                x,
                y,
                epsilon,
                epilogue: e,
            } => write!(f, "{name} {x} -> {y} epsilon {epsilon:?}{}", epilogue(e)),
            Op::Gather { data, indices, out } => write!(f, "{name} {data}, {indices} -> {out}"),
            Op::Recurrent {
                proj,
                weights,
                h0,
                c0,
                biases,
                y,
                cell,
            } => write!(
                f,
                "{name} {proj}, {weights}, {h0}, {c0}, {biases} -> {y} cell {cell}"
            ),
        }
    }
}

impl<Z: Sizes> Display for Storage<Z> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.kind {
            StorageKind::Param(i) => write!(f, "param {i}")?,
            StorageKind::Constant(i) => write!(f, "constant {i}")?,
            StorageKind::Computed => write!(f, "computed")?,
        }
        write!(
            f,
            " [{}x{}]",
            Z::extent_text(&self.elements),
            self.element_type
        )
    }
}

impl<K: Display, Z: Sizes> Display for Dispatches<K, Z> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, s) in self.storages.iter().enumerate() {
            writeln!(f, "%s{i} = {s}")?;
        }
        for (i, Dispatch { operands, kernel }) in self.dispatches.iter().enumerate() {
            let operands: Vec<String> = operands.iter().map(|s| s.to_string()).collect();
            writeln!(f, "dispatch_{i}({}) = {kernel}", operands.join(", "))?;
        }
        let results: Vec<String> = self.results.iter().map(|s| s.to_string()).collect();
        writeln!(f, "return {}", results.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use crate::*;
    use kiln_types::ElementType::F32;

    #[test]
    fn a_fused_matmul_prints_its_operands_and_epilogue() {
        let relu = Body {
            insts: vec![
                Inst::Input(0),
                Inst::Input(1),
                Inst::Binary(BinaryFn::Add, 0, 1),
                Inst::Unary(UnaryFn::Relu, 2),
            ],
            results: vec![3],
        };
        let bias = View {
            operand: 1,
            offset: 0,
            element_type: F32,
            shape: vec![1, 8, 128],
            strides: vec![0, 0, 1],
        };
        let op = Op::MatMul {
            a: View::contiguous(0, 0, F32, &[1, 8, 784]),
            b: View::contiguous(1, 128, F32, &[1, 784, 128]),
            c: View::contiguous(3, 0, F32, &[1, 8, 128]),
            epilogue: Some(Epilogue {
                inputs: vec![bias],
                body: relu,
            }),
        };
        let d: Dispatches = Dispatches {
            storages: vec![
                Storage {
                    kind: StorageKind::Param(0),
                    element_type: F32,
                    elements: 8 * 784,
                },
                Storage {
                    kind: StorageKind::Constant(0),
                    element_type: F32,
                    elements: 128 + 784 * 128,
                },
                Storage {
                    kind: StorageKind::Constant(1),
                    element_type: F32,
                    elements: 1,
                },
                Storage {
                    kind: StorageKind::Computed,
                    element_type: F32,
                    elements: 8 * 128,
                },
            ],
            dispatches: vec![Dispatch::over_storages(op)],
            results: vec![StorageId(3)],
        };
        assert_eq!(
            d.dispatches[0].operands,
            [StorageId(0), StorageId(1), StorageId(3)]
        );
        assert_eq!(d.dispatches[0].written(), [StorageId(3)]);
        assert_eq!(
            d.to_string(),
            "%s0 = param 0 [6272xf32]\n\
             %s1 = constant 0 [100480xf32]\n\
             %s2 = constant 1 [1xf32]\n\
             %s3 = computed [1024xf32]\n\
             dispatch_0(%s0, %s1, %s3) = matmul #0[1x8x784xf32], #1[1x784x128xf32]+128 -> \
             #2[1x8x128xf32] epilogue(#1[1x8x128xf32]/0,0,1) \
             { r0 = in0; r1 = in1; r2 = add r0, r1; r3 = relu r2; yield r3 }\n\
             return %s3\n"
        );
    }
}
