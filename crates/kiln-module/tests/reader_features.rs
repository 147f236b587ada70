//! A reader built without the `symbolic` or `control` feature (a firmware's, which runs
//! fixed-size straight-line functions) refuses modules that need them, naming what they need
//! and the feature; a reader with them reads the same modules. Either refuses a module that
//! defines a function twice.

use kiln_module::{FunctionDef, HostProgram, Module, TensorSig};
use kiln_types::control::ControlProgram;
use kiln_types::sym::SymExpr;
use kiln_types::ElementType;

fn module(main: FunctionDef) -> Module {
    Module {
        compiler_version: "test".into(),
        name: "features".into(),
        functions: vec![main],
        executables: vec![],
        constants: vec![],
    }
}

fn function(input: TensorSig, control: Option<ControlProgram>) -> FunctionDef {
    FunctionDef {
        name: "main".into(),
        inputs: vec![input],
        outputs: vec![TensorSig::fixed("y", ElementType::F32, &[4])],
        programs: match control {
            Some(_) => vec![],
            None => vec![HostProgram::default()],
        },
        checks: vec![],
        control,
        internal: false,
    }
}

#[test]
fn sizes_known_at_run_time_need_the_symbolic_feature() {
    let mut x = TensorSig::fixed("x", ElementType::F32, &[4]);
    x.dims[0] = SymExpr::parse("batch").unwrap();
    let bytes = module(function(x, None)).write(&[]);
    let read = Module::read(&bytes);
    if cfg!(feature = "symbolic") {
        assert_eq!(
            read.unwrap().functions[0].inputs[0].dims_string(),
            "[batch]"
        );
    } else {
        assert_eq!(
            read.unwrap_err().to_string(),
            "module needs the size `batch` in its metadata, known only at run time, which this \
             build of the runtime leaves out (kiln-module feature `symbolic`)"
        );
    }
}

#[test]
fn run_time_control_flow_needs_the_control_feature() {
    let x = TensorSig::fixed("x", ElementType::F32, &[4]);
    let program = ControlProgram {
        tensors: 2,
        scalars: 0,
        body: vec![],
        results: vec![0],
    };
    let bytes = module(function(x, Some(program))).write(&[]);
    let read = Module::read(&bytes);
    if cfg!(feature = "control") {
        assert!(read.unwrap().functions[0].control.is_some());
    } else {
        assert_eq!(
            read.unwrap_err().to_string(),
            "module needs run-time control flow (function 'main'), which this build of the \
             runtime leaves out (kiln-module feature `control`)"
        );
    }
}

#[test]
fn a_function_defined_twice_is_refused() {
    let x = || TensorSig::fixed("x", ElementType::F32, &[4]);
    let mut twice = module(function(x(), None));
    twice.functions.push(function(x(), None));
    assert_eq!(
        Module::read(&twice.write(&[])).unwrap_err().to_string(),
        "module is invalid: function 'main' is defined twice"
    );
    let mut renamed = module(function(x(), None));
    renamed.functions.push(FunctionDef {
        name: "other".into(),
        ..function(x(), None)
    });
    assert_eq!(
        Module::read(&renamed.write(&[])).unwrap().functions.len(),
        2
    );
}
