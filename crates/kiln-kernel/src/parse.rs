//! Reads the kernel IR's text form back ([`Dispatches`]' `Display`, see [`crate::print`]), so
//! tests of a backend's lowering can start from a few lines of kernel IR.
//!
//! Lines starting with `//` and blank lines are skipped. Every error names its line.

use crate::{BinaryFn, ReduceFn, UnaryFn, View};
use crate::{Body, Dispatch, Dispatches, Epilogue, Inst, Op, Storage, StorageId, StorageKind};
use kiln_types::recurrent::RecurrentCell;
use kiln_types::ElementType;

/// A line of kernel IR text that does not parse.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("kernel IR line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Parses one function's dispatches from their text form.
///
/// ```
/// let text = "%s0 = param 0 [4xf32]\n\
///             %s1 = computed [4xf32]\n\
///             dispatch_0(%s0, %s1) = generic [4] (#0[4xf32]) -> (#1[4xf32]) { r0 = in0; r1 = exp r0; yield r1 }\n\
///             return %s1\n";
/// let d = kiln_kernel::parse(text)?;
/// assert_eq!(d.dispatches.len(), 1);
/// assert_eq!(d.to_string(), text);
/// # Ok::<(), kiln_kernel::ParseError>(())
/// ```
pub fn parse(text: &str) -> Result<Dispatches, ParseError> {
    let mut d = Dispatches {
        storages: vec![],
        dispatches: vec![],
        results: vec![],
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let mut c = Cursor {
            rest: line,
            line: i + 1,
        };
        if c.eat("return") {
            c.skip_space();
            if !c.rest.is_empty() {
                d.results = c.list(',', |c| c.storage_id())?;
            }
        } else if line.starts_with("%s") {
            let id = c.storage_id()?;
            if id.index() != d.storages.len() {
                return Err(c.error(format!("expected %s{}", d.storages.len())));
            }
            c.expect("=")?;
            d.storages.push(c.storage()?);
        } else {
            d.dispatches.push(c.dispatch()?);
        }
        c.end()?;
    }
    crate::verify(&d).map_err(|e| ParseError {
        line: 0,
        message: e.to_string(),
    })?;
    Ok(d)
}

struct Cursor<'a> {
    rest: &'a str,
    line: usize,
}

impl<'a> Cursor<'a> {
    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line,
            message: format!("{} at '{}'", message.into(), self.rest),
        }
    }

    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start();
    }

    /// Consumes `token` (after spaces) if it comes next.
    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        match self.rest.strip_prefix(token) {
            Some(r) => {
                self.rest = r;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), ParseError> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(format!("expected '{token}'")))
        }
    }

    fn end(&mut self) -> Result<(), ParseError> {
        self.skip_space();
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.error("unexpected text"))
        }
    }

    /// The next run of characters that `keep` accepts.
    fn word(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        self.skip_space();
        let end = self.rest.find(|ch| !keep(ch)).unwrap_or(self.rest.len());
        let (w, r) = self.rest.split_at(end);
        self.rest = r;
        w
    }

    fn name(&mut self) -> String {
        self.word(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            .to_string()
    }

    /// A number as Rust prints integers and floats (`12`, `-3`, `0.5`, `1e-5`, `-inf`, `NaN`).
    fn number<T: std::str::FromStr>(&mut self) -> Result<T, ParseError> {
        self.skip_space();
        let special = ["-inf", "inf", "NaN"]
            .into_iter()
            .find(|s| self.rest.starts_with(s));
        let w = match special {
            Some(s) => {
                self.rest = &self.rest[s.len()..];
                s
            }
            None => self.word(|ch| ch.is_ascii_digit() || "-+.eE".contains(ch)),
        };
        w.parse::<T>().map_err(|_| ParseError {
            line: self.line,
            message: format!("'{w}' is not a number"),
        })
    }

    /// Items separated by `sep` until one fails to start (callers then expect a closer).
    fn list<T>(
        &mut self,
        sep: char,
        mut item: impl FnMut(&mut Self) -> Result<T, ParseError>,
    ) -> Result<Vec<T>, ParseError> {
        let mut out = vec![item(self)?];
        while self.eat(&sep.to_string()) {
            out.push(item(self)?);
        }
        Ok(out)
    }

    /// `[a, b, ...]` of `N` integers.
    fn array<const N: usize>(&mut self) -> Result<[u64; N], ParseError> {
        self.expect("[")?;
        let v = self.list(',', |c| c.number::<u64>())?;
        self.expect("]")?;
        v.try_into()
            .map_err(|_| self.error(format!("expected {N} values")))
    }

    fn storage_id(&mut self) -> Result<StorageId, ParseError> {
        self.expect("%s")?;
        Ok(StorageId(self.number()?))
    }

    /// `param N [6272xf32]`, `constant N [..]` or `computed [..]`.
    fn storage(&mut self) -> Result<Storage, ParseError> {
        let kind = match self.name().as_str() {
            "param" => StorageKind::Param(self.number()?),
            "constant" => StorageKind::Constant(self.number()?),
            "computed" => StorageKind::Computed,
            other => return Err(self.error(format!("unknown storage kind '{other}'"))),
        };
        self.expect("[")?;
        let elements = self.number()?;
        self.expect("x")?;
        let element_type = self.element_type()?;
        self.expect("]")?;
        Ok(Storage {
            kind,
            element_type,
            elements,
        })
    }

    fn element_type(&mut self) -> Result<ElementType, ParseError> {
        let name = self.name();
        ElementType::from_name(&name).ok_or_else(|| self.error(format!("unknown type '{name}'")))
    }

    /// `#operand[AxBxtype]`, then `+offset`, then `/strides`.
    fn view(&mut self) -> Result<View, ParseError> {
        self.expect("#")?;
        let operand = self.number()?;
        self.expect("[")?;
        let mut shape = vec![];
        let element_type = loop {
            self.skip_space();
            if self.rest.starts_with(|ch: char| ch.is_ascii_digit()) {
                shape.push(self.number::<u64>()?);
                self.expect("x")?;
            } else {
                break self.element_type()?;
            }
        };
        self.expect("]")?;
        // Strides of a contiguous layout must fit in i64 before any view is built from them.
        let fits = shape
            .iter()
            .try_fold(1i64, |a, &d| i64::try_from(d.max(1)).ok()?.checked_mul(a));
        if fits.is_none() {
            return Err(self.error("a view's extent overflows"));
        }
        let offset = if self.rest.starts_with('+') {
            self.rest = &self.rest[1..];
            self.number()?
        } else {
            0
        };
        let mut v = View::contiguous(operand, offset, element_type, &shape);
        if self.rest.starts_with('/') {
            // Strides are joined by bare commas; a comma and a space separate views.
            self.rest = &self.rest[1..];
            v.strides = vec![self.number::<i64>()?];
            while self.rest.starts_with(',') && !self.rest[1..].starts_with(' ') {
                self.rest = &self.rest[1..];
                v.strides.push(self.number()?);
            }
        }
        Ok(v)
    }

    fn views(&mut self) -> Result<Vec<View>, ParseError> {
        self.skip_space();
        if self.rest.starts_with(')') {
            return Ok(vec![]);
        }
        self.list(',', |c| c.view())
    }

    /// `{ r0 = in0; r1 = relu r0; yield r1 }`.
    fn body(&mut self) -> Result<Body, ParseError> {
        self.expect("{")?;
        let mut insts = vec![];
        loop {
            if self.eat("yield") {
                break;
            }
            self.expect("r")?;
            let n: usize = self.number()?;
            if n != insts.len() {
                return Err(self.error(format!("expected r{}", insts.len())));
            }
            self.expect("=")?;
            insts.push(self.inst()?);
            self.expect(";")?;
        }
        let results = self.list(',', |c| c.register())?;
        self.expect("}")?;
        Ok(Body { insts, results })
    }

    fn register(&mut self) -> Result<u32, ParseError> {
        self.expect("r")?;
        self.number()
    }

    fn inst(&mut self) -> Result<Inst, ParseError> {
        if self.eat("in") {
            return Ok(Inst::Input(self.number()?));
        }
        let op = self.name();
        Ok(match op.as_str() {
            "const" => {
                // Floats print with a point, an exponent, or as inf/NaN; integers without.
                self.skip_space();
                let end = self.rest.find(';').unwrap_or(self.rest.len());
                let float = self.rest[..end].contains(['.', 'e', 'n', 'N']);
                if float {
                    Inst::ConstF(self.number()?)
                } else {
                    Inst::ConstI(self.number()?)
                }
            }
            "index" => Inst::Index(self.number()?),
            "select" => {
                let r = self.list(',', |c| c.register())?;
                let [c, a, b] = r[..] else {
                    return Err(self.error("select takes three registers"));
                };
                Inst::Select(c, a, b)
            }
            "cast" => {
                let a = self.register()?;
                self.expect("to")?;
                Inst::Cast(a, self.element_type()?)
            }
            name => {
                if let Some(f) = UnaryFn::ALL.iter().find(|f| f.name() == name) {
                    Inst::Unary(*f, self.register()?)
                } else if let Some(f) = BinaryFn::ALL.iter().find(|f| f.name() == name) {
                    let a = self.register()?;
                    self.expect(",")?;
                    Inst::Binary(*f, a, self.register()?)
                } else {
                    return Err(self.error(format!("unknown instruction '{name}'")));
                }
            }
        })
    }

    fn epilogue(&mut self) -> Result<Option<Epilogue>, ParseError> {
        if !self.eat("epilogue(") {
            return Ok(None);
        }
        let inputs = self.views()?;
        self.expect(")")?;
        Ok(Some(Epilogue {
            inputs,
            body: self.body()?,
        }))
    }

    /// `x -> y`: one input view and one output view.
    fn unary_views(&mut self) -> Result<(View, View), ParseError> {
        let x = self.view()?;
        self.expect("->")?;
        Ok((x, self.view()?))
    }

    /// `a, b -> c`.
    fn binary_views(&mut self) -> Result<(View, View, View), ParseError> {
        let a = self.view()?;
        self.expect(",")?;
        let (b, c) = self.unary_views()?;
        Ok((a, b, c))
    }

    /// `dispatch_N(%sA, %sB) = op ...`.
    fn dispatch(&mut self) -> Result<Dispatch, ParseError> {
        let name = self.name();
        if !name.starts_with("dispatch_") {
            return Err(self.error("expected a storage, a dispatch or return"));
        }
        self.expect("(")?;
        let operands = self.list(',', |c| c.storage_id())?;
        self.expect(")")?;
        self.expect("=")?;
        Ok(Dispatch {
            operands,
            kernel: self.op()?,
        })
    }

    fn op(&mut self) -> Result<Op, ParseError> {
        let name = self.name();
        Ok(match name.as_str() {
            "generic" => {
                self.expect("[")?;
                let shape = if self.eat("]") {
                    vec![]
                } else {
                    let shape = self.list('x', |c| c.number::<u64>())?;
                    self.expect("]")?;
                    shape
                };
                let (mut reduction_dims, mut reduce) = (0, ReduceFn::Sum);
                if self.eat("reduce") {
                    let f = self.name();
                    reduce = *ReduceFn::ALL
                        .iter()
                        .find(|r| r.name() == f)
                        .ok_or_else(|| self.error(format!("unknown reduction '{f}'")))?;
                    self.expect("over last")?;
                    reduction_dims = self.number()?;
                }
                self.expect("(")?;
                let inputs = self.views()?;
                self.expect(")")?;
                self.expect("->")?;
                self.expect("(")?;
                let outputs = self.views()?;
                self.expect(")")?;
                Op::Generic {
                    shape,
                    reduction_dims,
                    reduce,
                    inputs,
                    outputs,
                    body: self.body()?,
                }
            }
            "matmul" => {
                let (a, b, c) = self.binary_views()?;
                Op::MatMul {
                    a,
                    b,
                    c,
                    epilogue: self.epilogue()?,
                }
            }
            "conv2d" => {
                let (x, w, y) = self.binary_views()?;
                self.expect("strides")?;
                let strides = self.array()?;
                self.expect("pads")?;
                let pads = self.array()?;
                self.expect("dilations")?;
                let dilations = self.array()?;
                self.expect("groups")?;
                Op::Conv2d {
                    x,
                    w,
                    y,
                    strides,
                    pads,
                    dilations,
                    groups: self.number()?,
                    epilogue: self.epilogue()?,
                }
            }
            "pool2d" => {
                let max = match self.name().as_str() {
                    "max" => true,
                    "avg" => false,
                    other => return Err(self.error(format!("unknown pooling '{other}'"))),
                };
                let (x, y) = self.unary_views()?;
                self.expect("kernel")?;
                let kernel = self.array()?;
                self.expect("strides")?;
                let strides = self.array()?;
                self.expect("pads")?;
                let pads = self.array()?;
                Op::Pool2d {
                    x,
                    y,
                    max,
                    kernel,
                    strides,
                    pads,
                    count_include_pad: self.eat("count_include_pad"),
                    epilogue: self.epilogue()?,
                }
            }
            "softmax" => {
                let (x, y) = self.unary_views()?;
                Op::Softmax {
                    x,
                    y,
                    epilogue: self.epilogue()?,
                }
            }
            "layer_norm" => {
                let (x, y) = self.unary_views()?;
                self.expect("epsilon")?;
                Op::LayerNorm {
                    x,
                    y,
                    epsilon: self.number()?,
                    epilogue: self.epilogue()?,
                }
            }
            "gather" => {
                let (data, indices, out) = self.binary_views()?;
                Op::Gather { data, indices, out }
            }
            "recurrent" => {
                let mut ins = vec![self.view()?];
                for _ in 0..4 {
                    self.expect(",")?;
                    ins.push(self.view()?);
                }
                self.expect("->")?;
                let y = self.view()?;
                self.expect("cell")?;
                let word = self.word(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.');
                let clip = match self.eat("clip") {
                    true => Some(self.number()?),
                    false => None,
                };
                let cell = RecurrentCell::from_word(word, clip).map_err(|m| self.error(m))?;
                let [proj, weights, h0, c0, biases] = <[View; 5]>::try_from(ins)
                    .unwrap_or_else(|_| unreachable!("five views were read"));
                Op::Recurrent {
                    proj,
                    weights,
                    h0,
                    c0,
                    biases,
                    y,
                    cell,
                }
            }
            other => return Err(self.error(format!("unknown op '{other}'"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn bad_text_is_an_error_naming_the_line() {
        let err = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(
            err("%s0 = param 0 [4xf32]\n%s2 = computed [4xf32]"),
            "kernel IR line 2: expected %s1 at ' = computed [4xf32]'"
        );
        for dims in ["4294967296x4294967296x2", "0x4294967296x4294967296x2"] {
            let huge = format!(
                "%s0 = param 0 [4xf32]\n%s1 = computed [4xf32]\n\
                 dispatch_0(%s0, %s1) = generic [4] (#0[{dims}xf32]) -> (#1[4xf32]) {{ r0 = in0; yield r0 }}"
            );
            assert!(err(&huge).contains("a view's extent overflows"), "{dims}");
        }
        let deep = "%s0 = param 0 [4xf32]\n%s1 = computed [4xf32]\n\
                    dispatch_0(%s0, %s1) = generic [4] reduce sum over last 2 (#0[4xf32]) -> (#1[4xf32]) { r0 = in0; yield r0 }";
        assert!(
            err(deep).contains("reduces more dims than it has"),
            "{}",
            err(deep)
        );
        let stray = "%s0 = param 0 [4xf32]\n\
                     dispatch_0(%s0) = generic [4] (#0[4xf32]) -> (#1[4xf32]) { r0 = in0; yield r0 }";
        assert!(
            err(stray).contains("reads operand 1 of 1"),
            "{}",
            err(stray)
        );
        assert!(err("dispatch_0(%s0) = frobnicate").contains("unknown op 'frobnicate'"));
        assert_eq!(
            parse("%s0 = param 0 [4xf32]\nreturn\n").unwrap().results,
            []
        );
    }

    /// A recurrent dispatch prints back as it was written, its cell and clip included; a
    /// cell that does not fit its options is an error naming the line.
    #[test]
    fn recurrent_dispatches_round_trip() {
        let storages = "%s0 = param 0 [45xf32]\n%s1 = param 1 [75xf32]\n%s2 = param 2 [15xf32]\n\
                        %s3 = param 3 [15xf32]\n%s4 = param 4 [20xf32]\n%s5 = computed [75xf32]\n";
        let dispatch = "dispatch_0(%s0, %s1, %s2, %s3, %s4, %s5) = recurrent #0[1x1x3x15xf32], \
                        #1[1x5x15xf32], #2[1x3x5xf32], #3[1x3x5xf32], #4[1x1x20xf32] -> \
                        #5[3x1x3x5xf32] cell gru.forward.lbr.sigmoid.tanh clip 0.5";
        let text = format!("{storages}{dispatch}\nreturn %s5\n");
        assert_eq!(parse(&text).unwrap().to_string(), text);
        let coupled = text.replace("gru.forward.lbr", "gru.forward.coupled");
        let err = parse(&coupled).unwrap_err().to_string();
        assert!(
            err.starts_with("kernel IR line 7: only an LSTM couples"),
            "{err}"
        );
    }
}
