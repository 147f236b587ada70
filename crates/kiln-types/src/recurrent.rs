//! What a recurrent layer (ONNX's LSTM, GRU and RNN) computes per time step, as the tensor
//! program, the kernel IR and the VMVX executable format all name it: the cell, the
//! directions, the gate activations and the options that change the step.
//!
//! Its text form is one word (`gru.bidirectional.plain.sigmoid.tanh.sigmoid.tanh`: cell,
//! directions, `plain`, `lbr` for GRU's `linear_before_reset` or `coupled` for LSTM's
//! `input_forget`, then each direction's activations), with the clip beside it: the kernel
//! IR and VMVX print it as `Display` does (`gru.forward.plain.sigmoid.tanh clip 0.5`).
//!
//! ```
//! use kiln_types::recurrent::{Activation, Cell, Directions, RecurrentCell};
//! let cell = RecurrentCell::from_word("gru.bidirectional.plain.sigmoid.tanh.sigmoid.tanh", None)
//!     .unwrap();
//! assert_eq!((cell.cell, cell.directions), (Cell::Gru, Directions::Bidirectional));
//! assert_eq!(cell.activations(1), &[Activation::Sigmoid, Activation::Tanh]);
//! assert_eq!(cell.word(), "gru.bidirectional.plain.sigmoid.tanh.sigmoid.tanh");
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The cell computed at each step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cell {
    /// Gates in ONNX order: input, output, forget, cell.
    Lstm,
    /// Gates in ONNX order: update, reset, hidden.
    Gru,
    /// One gate.
    Rnn,
}

impl Cell {
    const ALL: [Cell; 3] = [Cell::Lstm, Cell::Gru, Cell::Rnn];

    /// Gate blocks per hidden unit (the column blocks of the weights).
    pub fn gates(self) -> usize {
        match self {
            Cell::Lstm => 4,
            Cell::Gru => 3,
            Cell::Rnn => 1,
        }
    }

    /// Activation functions per direction (ONNX's `f`, `g`, `h`).
    pub fn activation_count(self) -> usize {
        match self {
            Cell::Lstm => 3,
            Cell::Gru => 2,
            Cell::Rnn => 1,
        }
    }

    /// Values per hidden unit of the biases past the projection's: LSTM's peepholes (input,
    /// output, forget) or GRU's recurrent hidden bias, applied inside the reset gate.
    pub fn extra_gates(self) -> usize {
        match self {
            Cell::Lstm => 3,
            Cell::Gru | Cell::Rnn => 1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Cell::Lstm => "lstm",
            Cell::Gru => "gru",
            Cell::Rnn => "rnn",
        }
    }

    fn from_name(name: &str) -> Option<Cell> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Which way the sequence is walked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Directions {
    Forward,
    Reverse,
    /// Forward as direction 0, reverse as direction 1.
    Bidirectional,
}

impl Directions {
    const ALL: [Directions; 3] = [
        Directions::Forward,
        Directions::Reverse,
        Directions::Bidirectional,
    ];

    pub fn count(self) -> usize {
        match self {
            Directions::Bidirectional => 2,
            _ => 1,
        }
    }

    /// Whether direction `d` walks the sequence from its end.
    pub fn reverse(self, d: usize) -> bool {
        matches!(
            (self, d),
            (Directions::Reverse, _) | (Directions::Bidirectional, 1)
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Directions::Forward => "forward",
            Directions::Reverse => "reverse",
            Directions::Bidirectional => "bidirectional",
        }
    }

    fn from_name(name: &str) -> Option<Directions> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// A gate activation without parameters (ONNX's parameterised ones are computed as separate
/// ops by the importer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    Sigmoid,
    Tanh,
    Relu,
    Softsign,
    Softplus,
}

impl Activation {
    const ALL: [Activation; 5] = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::Softsign,
        Activation::Softplus,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Softsign => "softsign",
            Activation::Softplus => "softplus",
        }
    }

    /// The activation ONNX names `name` (any case: `Sigmoid`, `sigmoid`).
    pub fn from_name(name: &str) -> Option<Activation> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// Its number in the binary encoding.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<Activation> {
        Self::ALL.get(code as usize).copied()
    }
}

/// One recurrent layer's step: see the module docs.
#[derive(Clone, Debug, PartialEq)]
pub struct RecurrentCell {
    pub cell: Cell,
    pub directions: Directions,
    /// [`Cell::activation_count`] per direction, direction 0's first.
    pub activations: Vec<Activation>,
    /// Every activation's input clipped to `[-clip, clip]`.
    pub clip: Option<f32>,
    /// LSTM: the forget gate is `1 - input gate`.
    pub input_forget: bool,
    /// GRU: the reset gate multiplies the recurrent product (plus its bias) rather than the
    /// state before it.
    pub linear_before_reset: bool,
}

impl RecurrentCell {
    /// Values per direction of the biases a recurrent kernel takes for hidden size `hidden`:
    /// the bias added to every step's projection (one per gate column), then
    /// [`Cell::extra_gates`] per hidden unit.
    pub fn bias_len(&self, hidden: usize) -> usize {
        (self.cell.gates() + self.cell.extra_gates()) * hidden
    }

    /// Direction `d`'s activations.
    pub fn activations(&self, d: usize) -> &[Activation] {
        let n = self.cell.activation_count();
        &self.activations[d * n..(d + 1) * n]
    }

    /// The text form (see the module docs); the clip is written beside it.
    pub fn word(&self) -> String {
        let option = if self.linear_before_reset {
            "lbr"
        } else if self.input_forget {
            "coupled"
        } else {
            "plain"
        };
        let mut word = format!("{}.{}.{option}", self.cell.name(), self.directions.name());
        for a in &self.activations {
            word.push('.');
            word.push_str(a.name());
        }
        word
    }

    /// Parses [`RecurrentCell::word`]'s form; the error says what does not fit.
    pub fn from_word(word: &str, clip: Option<f32>) -> Result<RecurrentCell, String> {
        let mut parts = word.split('.');
        let mut next = |what: &str| {
            parts
                .next()
                .ok_or_else(|| format!("recurrent cell '{word}' has no {what}"))
        };
        let cell = next("cell")?;
        let cell =
            Cell::from_name(cell).ok_or_else(|| format!("unknown recurrent cell '{cell}'"))?;
        let dirs = next("directions")?;
        let directions = Directions::from_name(dirs)
            .ok_or_else(|| format!("unknown recurrent directions '{dirs}'"))?;
        let (linear_before_reset, input_forget) = match next("option")? {
            "plain" => (false, false),
            "lbr" => (true, false),
            "coupled" => (false, true),
            other => return Err(format!("unknown recurrent option '{other}'")),
        };
        let activations = parts
            .map(|a| Activation::from_name(a).ok_or_else(|| format!("unknown activation '{a}'")))
            .collect::<Result<Vec<_>, _>>()?;
        let cell = RecurrentCell {
            cell,
            directions,
            activations,
            clip,
            input_forget,
            linear_before_reset,
        };
        cell.check()?;
        Ok(cell)
    }

    /// Checks that the parts fit together: the activations' count, options of the right cell,
    /// a positive clip.
    pub fn check(&self) -> Result<(), String> {
        let want = self.cell.activation_count() * self.directions.count();
        if self.activations.len() != want {
            return Err(format!(
                "a {} {} layer takes {want} activations, got {}",
                self.directions.name(),
                self.cell.name(),
                self.activations.len()
            ));
        }
        if self.linear_before_reset && self.cell != Cell::Gru {
            return Err("only a GRU applies its reset gate after the product".into());
        }
        if self.input_forget && self.cell != Cell::Lstm {
            return Err("only an LSTM couples its input and forget gates".into());
        }
        if let Some(c) = self.clip {
            if c.is_nan() || c <= 0.0 {
                return Err(format!("clip {c} must be positive"));
            }
        }
        Ok(())
    }

    /// The binary encoding: cell, directions and options as bytes, a flag and the clip, the
    /// activation count and codes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.cell as u8);
        out.push(self.directions as u8);
        out.push(self.linear_before_reset as u8 | (self.input_forget as u8) << 1);
        out.push(self.clip.is_some() as u8);
        out.extend_from_slice(&self.clip.unwrap_or(0.0).to_le_bytes());
        out.push(self.activations.len() as u8);
        out.extend(self.activations.iter().map(|a| a.code()));
    }

    /// Reads [`RecurrentCell::encode`]'s bytes from the start of `bytes`, returning the cell
    /// and the bytes it took.
    pub fn decode(bytes: &[u8]) -> Result<(RecurrentCell, usize), String> {
        let short = || String::from("a recurrent cell's description is cut short");
        let head = bytes.get(..9).ok_or_else(short)?;
        let cell = Cell::ALL
            .get(head[0] as usize)
            .copied()
            .ok_or_else(|| format!("unknown recurrent cell {}", head[0]))?;
        let directions = Directions::ALL
            .get(head[1] as usize)
            .copied()
            .ok_or_else(|| format!("unknown recurrent directions {}", head[1]))?;
        let clip = f32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let n = head[8] as usize;
        let codes = bytes.get(9..9 + n).ok_or_else(short)?;
        let activations = codes
            .iter()
            .map(|&c| Activation::from_code(c).ok_or_else(|| format!("unknown activation {c}")))
            .collect::<Result<Vec<_>, _>>()?;
        let cell = RecurrentCell {
            cell,
            directions,
            activations,
            clip: (head[3] != 0).then_some(clip),
            linear_before_reset: head[2] & 1 != 0,
            input_forget: head[2] & 2 != 0,
        };
        cell.check()?;
        Ok((cell, 9 + n))
    }
}

/// The word, then ` clip C` where there is a clip.
impl fmt::Display for RecurrentCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.word())?;
        match self.clip {
            Some(c) => write!(f, " clip {c:?}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn encodings_round_trip() {
        let cell = RecurrentCell {
            cell: Cell::Lstm,
            directions: Directions::Reverse,
            activations: alloc::vec![Activation::Sigmoid, Activation::Softsign, Activation::Relu],
            clip: Some(2.5),
            input_forget: true,
            linear_before_reset: false,
        };
        let mut bytes = alloc::vec![];
        cell.encode(&mut bytes);
        assert_eq!(
            RecurrentCell::decode(&bytes),
            Ok((cell.clone(), bytes.len()))
        );
        assert_eq!(
            RecurrentCell::from_word(&cell.word(), Some(2.5)),
            Ok(cell.clone())
        );
        assert_eq!(
            cell.to_string(),
            "lstm.reverse.coupled.sigmoid.softsign.relu clip 2.5"
        );
        assert!(RecurrentCell::decode(&bytes[..5]).is_err());
        let err = RecurrentCell::from_word("gru.forward.plain.sigmoid", None).unwrap_err();
        assert!(err.contains("takes 2 activations"), "{err}");
        let err = RecurrentCell::from_word("rnn.forward.lbr.tanh", None).unwrap_err();
        assert!(err.contains("only a GRU"), "{err}");
    }
}
