//! Every kind of kernel compiles to SPIR-V that `spirv-val` accepts, for every target.
//!
//! Without `spirv-val` installed the checks are skipped with a note, unless
//! `KILN_REQUIRE_SPIRV_VAL` is set (CI sets it), which makes a missing tool a failure.

use kiln_codegen_spirv::{compile_kernel, spirv_val, TARGETS};
use kiln_kernel::*;
use kiln_types::ElementType::{self, *};

fn v(binding: u32, t: ElementType, shape: &[u64]) -> View {
    View::contiguous(binding, 0, t, shape)
}

fn body(insts: Vec<Inst>, results: Vec<u32>) -> Body {
    Body { insts, results }
}

fn generic(
    shape: &[u64],
    reduction_dims: u32,
    reduce: ReduceFn,
    inputs: Vec<View>,
    outputs: Vec<View>,
    body: Body,
) -> Op {
    Op::Generic {
        shape: shape.to_vec(),
        reduction_dims,
        reduce,
        inputs,
        outputs,
        body,
    }
}

/// One kernel of every op, with every body instruction and element type between them.
pub fn sample_kernels() -> Vec<(&'static str, Op)> {
    use Inst::*;
    let mut all_unary: Vec<Inst> = vec![Input(0)];
    for f in [
        UnaryFn::Neg,
        UnaryFn::Abs,
        UnaryFn::Exp,
        UnaryFn::Log,
        UnaryFn::Sqrt,
        UnaryFn::Erf,
        UnaryFn::Relu,
        UnaryFn::Sigmoid,
        UnaryFn::Tanh,
        UnaryFn::Floor,
        UnaryFn::Ceil,
        UnaryFn::Round,
        UnaryFn::Sign,
        UnaryFn::Sin,
        UnaryFn::Cos,
        UnaryFn::Softplus,
    ] {
        all_unary.push(Unary(f, all_unary.len() as u32 - 1));
    }
    let n = all_unary.len() as u32;
    for f in [
        BinaryFn::Add,
        BinaryFn::Sub,
        BinaryFn::Mul,
        BinaryFn::Div,
        BinaryFn::Pow,
        BinaryFn::Max,
        BinaryFn::Min,
    ] {
        all_unary.push(Binary(f, n - 1, 0));
    }
    let last = all_unary.len() as u32 - 1;
    all_unary.push(Binary(BinaryFn::Less, last, 0));
    let cond = last + 1;
    all_unary.push(Select(cond, last, 0));
    all_unary.push(Cast(cond + 1, F16));
    all_unary.push(Cast(cond + 2, BF16));
    let floats = all_unary.len() as u32 - 1;
    // Integer side.
    all_unary.push(Input(1)); // i64
    let i = floats + 1;
    let mut ints = vec![];
    for f in [
        UnaryFn::Neg,
        UnaryFn::Abs,
        UnaryFn::Relu,
        UnaryFn::Sign,
        UnaryFn::Not,
    ] {
        ints.push(Unary(f, i));
    }
    for f in [
        BinaryFn::Add,
        BinaryFn::Sub,
        BinaryFn::Mul,
        BinaryFn::Div,
        BinaryFn::Pow,
        BinaryFn::Max,
        BinaryFn::Min,
        BinaryFn::Equal,
        BinaryFn::Greater,
        BinaryFn::And,
        BinaryFn::Or,
    ] {
        ints.push(Binary(f, i, i));
    }
    all_unary.extend(ints);
    let int_last = all_unary.len() as u32 - 1;
    all_unary.push(Cast(floats, I32));
    all_unary.push(Cast(int_last, I8));
    all_unary.push(Cast(int_last, F32));
    all_unary.push(Cast(floats, I1));
    let k = all_unary.len() as u32;
    let shape = [3, 5, 7];
    let ew = generic(
        &shape,
        0,
        ReduceFn::Sum,
        vec![v(0, F16, &shape), v(1, I64, &shape)],
        vec![
            v(2, F32, &shape),
            v(3, I32, &shape),
            v(4, I8, &shape),
            v(5, BF16, &shape),
            v(6, I1, &shape),
        ],
        // Results: f32, i32, i8, bf16 (a float register), i1.
        body(all_unary, vec![floats, k - 4, k - 3, k - 2, k - 1]),
    );
    let mut reduce_out = v(1, F32, &[6, 100]);
    reduce_out.strides[1] = 0;
    let mut short_out = v(1, I64, &[6, 4]);
    short_out.strides[1] = 0;
    let epilogue = |n: u32, shape: &[u64]| Epilogue {
        inputs: vec![View {
            strides: vec![0; shape.len()],
            ..v(n, F32, shape)
        }],
        body: body(
            vec![Input(0), Input(1), Binary(BinaryFn::Add, 0, 1)],
            vec![2],
        ),
    };
    let mut bias = v(3, F32, &[2, 16, 40]);
    bias.strides = vec![0, 1, 0];
    vec![
        ("elementwise", ew),
        (
            "mean_rows",
            generic(
                &[6, 100],
                1,
                ReduceFn::Mean,
                vec![v(0, F32, &[6, 100])],
                vec![reduce_out],
                body(vec![Input(0)], vec![0]),
            ),
        ),
        (
            "max_short_rows",
            generic(
                &[6, 4],
                1,
                ReduceFn::Max,
                vec![v(0, I64, &[6, 4])],
                vec![short_out],
                body(vec![Input(0)], vec![0]),
            ),
        ),
        (
            "matmul",
            Op::MatMul {
                a: v(0, F32, &[2, 16, 33]),
                b: v(1, F32, &[2, 33, 40]),
                c: v(2, F32, &[2, 16, 40]),
                epilogue: Some(Epilogue {
                    inputs: vec![bias],
                    body: body(
                        vec![Input(0), Input(1), Binary(BinaryFn::Add, 0, 1)],
                        vec![2],
                    ),
                }),
            },
        ),
        (
            "conv",
            Op::Conv2d {
                x: v(0, F32, &[1, 4, 9, 9]),
                w: v(1, F32, &[6, 2, 3, 3]),
                y: v(2, F32, &[1, 6, 5, 5]),
                strides: [2, 2],
                pads: [1, 1, 1, 1],
                dilations: [1, 1],
                groups: 2,
                epilogue: None,
            },
        ),
        (
            "pool",
            Op::Pool2d {
                x: v(0, F32, &[1, 3, 8, 8]),
                y: v(1, F32, &[1, 3, 4, 4]),
                max: false,
                kernel: [3, 3],
                strides: [2, 2],
                pads: [1, 1, 1, 1],
                count_include_pad: false,
                epilogue: Some(epilogue(2, &[1, 3, 4, 4])),
            },
        ),
        (
            "softmax",
            Op::Softmax {
                x: v(0, F32, &[4, 64, 3]),
                y: v(1, F32, &[4, 64, 3]),
                epilogue: Some(epilogue(2, &[4, 64, 3])),
            },
        ),
        (
            "layernorm",
            Op::LayerNorm {
                x: v(0, F32, &[5, 48]),
                y: v(1, F32, &[5, 48]),
                epsilon: 1e-5,
                epilogue: Some(epilogue(2, &[5, 48])),
            },
        ),
        (
            "gather",
            Op::Gather {
                data: v(0, F16, &[1, 10, 4]),
                indices: v(1, I64, &[3]),
                out: v(2, F16, &[1, 3, 4]),
            },
        ),
    ]
}

#[test]
fn every_kernel_passes_spirv_val_on_every_target() {
    let required = std::env::var_os("KILN_REQUIRE_SPIRV_VAL").is_some();
    for (name, kernel) in sample_kernels() {
        for target in TARGETS {
            let (entry, groups) = compile_kernel(name, &kernel, target)
                .unwrap_or_else(|e| panic!("{name} on {}: {e}", target.name));
            assert!(groups > 0, "{name}");
            match spirv_val(&entry.code) {
                Ok(true) => {}
                Ok(false) if !required => {
                    eprintln!("spirv-val is not installed; skipping validation");
                    return;
                }
                Ok(false) => panic!("spirv-val is required but not installed"),
                Err(e) => panic!("{name} on {}: {e}", target.name),
            }
        }
    }
}
