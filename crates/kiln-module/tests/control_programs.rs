//! Control programs in module files: written and read back unchanged, and refused on read when
//! they name registers or functions that do not exist.
#![cfg(feature = "control")]

use kiln_module::{FunctionDef, HostProgram, Module, TensorSig};
use kiln_types::control::{ArithOp, ControlProgram, Scan, Stmt};
use kiln_types::ElementType;

fn sig(name: &str) -> TensorSig {
    TensorSig::fixed(name, ElementType::F32, &[4])
}

/// A module whose `main` branches on its input's first dim and loops over a straight-line
/// `step`, as the compiler writes them.
fn module(body: Vec<Stmt>, tensors: u32, results: Vec<u32>) -> Module {
    let step = FunctionDef {
        name: "step".into(),
        inputs: vec![sig("x")],
        outputs: vec![sig("y")],
        programs: vec![HostProgram::default()],
        checks: vec![],
        control: None,
        internal: true,
    };
    let mut any = sig("y");
    any.dims.clear();
    any.any_rank = true;
    let main = FunctionDef {
        name: "main".into(),
        inputs: vec![sig("x")],
        outputs: vec![any],
        programs: vec![],
        checks: vec![],
        control: Some(ControlProgram {
            tensors,
            scalars: 4,
            body,
            results,
        }),
        internal: false,
    };
    Module {
        compiler_version: "test".into(),
        name: "control".into(),
        functions: vec![main, step],
        executables: vec![],
        constants: vec![],
    }
}

fn call(args: Vec<u32>, results: Vec<u32>) -> Stmt {
    Stmt::Call {
        function: "step".into(),
        args,
        results,
    }
}

fn every_statement() -> Vec<Stmt> {
    vec![
        Stmt::Dim {
            tensor: 0,
            axis: 0,
            scalar: 0,
        },
        Stmt::SetScalar {
            scalar: 1,
            value: 4,
        },
        Stmt::Arith {
            op: ArithOp::Eq,
            lhs: 0,
            rhs: 1,
            dst: 2,
        },
        Stmt::If {
            cond: 2,
            then_body: vec![call(vec![0], vec![1])],
            else_body: vec![Stmt::Fail {
                message: "x must have 4 elements".into(),
            }],
        },
        Stmt::Loop {
            max: Some(1),
            cond: None,
            index: 3,
            body: vec![
                Stmt::Tensor {
                    scalar: 3,
                    element_type: ElementType::I64.code(),
                    tensor: 2,
                },
                Stmt::Pack {
                    scalars: vec![0, 3],
                    element_type: ElementType::I64.code(),
                    tensor: 3,
                },
                call(vec![1], vec![1]),
                Stmt::Move { src: 1, dst: 4 },
            ],
            scans: vec![Scan {
                src: 4,
                dst: 5,
                element_type: ElementType::F32.code(),
                dims: vec![3],
                reverse: true,
            }],
        },
        Stmt::Read {
            tensor: 2,
            scalar: 0,
        },
        Stmt::Sizes {
            scalars: vec![0, 1],
            tensor: 3,
        },
    ]
}

#[test]
fn control_programs_round_trip_through_the_file() {
    let m = module(every_statement(), 6, vec![5]);
    let read = Module::read(&m.write(&[])).unwrap();
    assert_eq!(read, m);
    let text = read.functions[0].control.as_ref().unwrap().to_string();
    assert!(
        text.contains("stack.reverse")
            && text.contains("pack.i64")
            && text.contains("%r3 = sizes [$s0, $s1]"),
        "{text}"
    );
    assert_eq!(read.functions[0].outputs[0].type_string(), "*xf32");
    assert!(
        read.function("step").is_none(),
        "internal functions are not exported"
    );
    assert!(read.any_function("step").is_some());
}

#[test]
fn control_programs_naming_what_does_not_exist_are_refused() {
    let err = |m: Module| Module::read(&m.write(&[])).unwrap_err().to_string();
    let e = err(module(every_statement(), 5, vec![5]));
    assert!(
        e.contains("function 'main': %r5 is beyond its 5 tensor registers"),
        "{e}"
    );
    let e = err(module(
        vec![Stmt::Call {
            function: "nope".into(),
            args: vec![0],
            results: vec![1],
        }],
        2,
        vec![1],
    ));
    assert!(e.contains("it calls 'nope' which is not defined"), "{e}");
    let e = err(module(vec![call(vec![0, 0], vec![1])], 2, vec![1]));
    assert!(
        e.contains("with 2 arguments and 1 results, but it takes 1 and returns 1"),
        "{e}"
    );
    let e = err(module(vec![call(vec![0], vec![1])], 2, vec![1, 0]));
    assert!(e.contains("returns 2 tensors for 1 results"), "{e}");
}
