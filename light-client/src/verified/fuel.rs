//! Fuel for runtime calls: a hostile `:code` must not hang the worker.
//!
//! smoldot's executor (wasmi) runs a call without interruption between two host calls and has no
//! fuel of its own, and a Web Worker cannot be preempted: a runtime whose `Core_version` spins in
//! a loop would freeze the light client for good. So the limit is written into the code before it
//! is compiled: at the entry of every function and the head of every loop, a few instructions
//! take from a global the number of instructions the function or loop body holds (nested loops
//! pay for themselves) and trap when not that much is left. Branches only jump forward or out of
//! a block, so between two such points the code runs at most once through: the count bounds the
//! instructions the whole call executes. smoldot instantiates the module afresh for each call:
//! each call starts with a full tank.
//!
//! The code is validated as it came before anything is written into it: a module that names the
//! tank's global index (invalid as written, valid once the tank is added) could refill it.
//!
//! Not counted: work inside host functions (hashing, signature checks), which is bounded by the
//! size of the runtime's memory per call, so a hostile runtime can still make each loop iteration
//! expensive; the count still bounds how many there are.
//!
//! The trap is an integer division by zero, which compiled Rust never reaches (it checks the
//! divisor and panics first), so it names the cause: [`is_out_of_fuel`].
//!
//! Only the code section grows (and the global section by one entry); indices of functions,
//! globals, types and labels are untouched, so nothing else needs rewriting.

use std::fmt;
use wasmparser::{BinaryReader, CodeSectionReader, ImportSectionReader, Operator, TypeRef};

/// Instructions one call may execute (a function's or loop body's instructions are taken on
/// entry, so this bounds what ran from above). Measured by `tests/runtime_fuel.rs` on the
/// localnet's runtime (spec 103): `Metadata_metadata` takes about 6.9 million, `Core_version`
/// about 7 000; this is some 40× the heaviest. The worst case for time is a tight loop (two
/// instructions and the check per iteration): it burns this much in about 8 s natively in a test
/// build, a few times that in a browser.
pub const CALL_FUEL: u64 = 1 << 28;

/// Decompressed runtimes larger than this are refused (smoldot's own limit).
const MAX_CODE: usize = 50 * 1024 * 1024;

/// Substrate's prefix for zstd-compressed runtime blobs.
const ZSTD_PREFIX: [u8; 8] = [82, 188, 83, 118, 70, 219, 142, 5];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuelError(pub String);

impl fmt::Display for FuelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the runtime code cannot be prepared: {}", self.0)
    }
}

impl std::error::Error for FuelError {}

fn error(why: impl fmt::Display) -> FuelError {
    FuelError(why.to_string())
}

/// Whether a call's failure (as smoldot words it) is the fuel running out.
pub fn is_out_of_fuel(why: &str) -> bool {
    why.contains("divide by zero") || why.contains("division by zero")
}

/// The runtime `code` (as stored in `:code`, compressed or not) with `fuel` written into it.
pub fn instrument(code: &[u8], fuel: u64) -> Result<Vec<u8>, FuelError> {
    let wasm = decompress(code)?;
    wasmparser::Validator::new()
        .validate_all(&wasm)
        .map_err(|e| error(format!("not valid wasm: {e}")))?;
    let sections = sections(&wasm)?;

    let mut imported_globals = 0u32;
    let mut defined_globals = 0u32;
    for section in &sections {
        match section.id {
            2 => {
                for import in
                    ImportSectionReader::new(BinaryReader::new(section.content, section.offset))
                        .map_err(error)?
                {
                    if matches!(import.map_err(error)?.ty, TypeRef::Global(_)) {
                        imported_globals += 1;
                    }
                }
            }
            6 => {
                defined_globals = BinaryReader::new(section.content, section.offset)
                    .read_var_u32()
                    .map_err(error)?;
            }
            _ => {}
        }
    }
    let tank = imported_globals
        .checked_add(defined_globals)
        .ok_or_else(|| error("too many globals"))?;
    // `(global (mut i64) (i64.const fuel))`
    let mut global = vec![0x7e, 0x01, 0x42];
    write_sleb(&mut global, i64::try_from(fuel).unwrap_or(i64::MAX));
    global.push(0x0b);

    let mut out = Vec::with_capacity(wasm.len() + wasm.len() / 8);
    out.extend_from_slice(wasm.get(..8).ok_or_else(|| error("not a wasm module"))?);
    let mut global_written = false;
    for section in &sections {
        // A module without globals gets a global section where the order puts it: before the
        // export, start, element, data count, code and data sections.
        if !global_written && matches!(section.id, 7..=12) {
            let mut content = Vec::new();
            write_uleb(&mut content, 1);
            content.extend_from_slice(&global);
            write_section(&mut out, 6, &content);
            global_written = true;
        }
        match section.id {
            6 => {
                let mut reader = BinaryReader::new(section.content, section.offset);
                let count = reader.read_var_u32().map_err(error)?;
                let mut content = Vec::with_capacity(section.content.len() + global.len() + 5);
                write_uleb(
                    &mut content,
                    count
                        .checked_add(1)
                        .ok_or_else(|| error("too many globals"))?,
                );
                content.extend_from_slice(
                    section
                        .content
                        .get(reader.original_position() - section.offset..)
                        .ok_or_else(|| error("the global section is cut"))?,
                );
                content.extend_from_slice(&global);
                write_section(&mut out, 6, &content);
                global_written = true;
            }
            10 => write_section(&mut out, 10, &code_section(section, tank)?),
            id => write_section(&mut out, id, section.content),
        }
    }
    Ok(out)
}

fn decompress(code: &[u8]) -> Result<Vec<u8>, FuelError> {
    let Some(mut compressed) = code.strip_prefix(&ZSTD_PREFIX[..]) else {
        if code.len() > MAX_CODE {
            return Err(error("the code is larger than 50 MiB"));
        }
        return Ok(code.to_vec());
    };
    let mut decoder = ruzstd::decoding::FrameDecoder::new();
    decoder
        .init(&mut compressed)
        .map_err(|e| error(format!("zstd: {e}")))?;
    match decoder.decode_blocks(
        &mut compressed,
        ruzstd::decoding::BlockDecodingStrategy::UptoBytes(MAX_CODE),
    ) {
        Ok(true) => {}
        Ok(false) => return Err(error("the code decompresses to more than 50 MiB")),
        Err(e) => return Err(error(format!("zstd: {e}"))),
    }
    decoder
        .collect()
        .ok_or_else(|| error("zstd: the frame does not end"))
}

struct Section<'a> {
    id: u8,
    /// Where the content starts in the module (for wasmparser's offsets).
    offset: usize,
    content: &'a [u8],
}

/// The module's sections, in order (custom ones included).
fn sections(wasm: &[u8]) -> Result<Vec<Section<'_>>, FuelError> {
    if wasm.get(..8) != Some(&[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0][..]) {
        return Err(error("not a wasm module (version 1)"));
    }
    let mut reader = BinaryReader::new(wasm, 0);
    reader.read_bytes(8).map_err(error)?;
    let mut sections = Vec::new();
    while !reader.eof() {
        let id = reader.read_u8().map_err(error)?;
        let size = usize::try_from(reader.read_var_u32().map_err(error)?).map_err(error)?;
        let offset = reader.original_position();
        let content = wasm
            .get(offset..offset.saturating_add(size))
            .ok_or_else(|| error(format!("section {id} runs past the end")))?;
        reader.read_bytes(size).map_err(error)?;
        sections.push(Section {
            id,
            offset,
            content,
        });
    }
    Ok(sections)
}

/// The code section with a fuel check at each function's entry and after each `loop`'s block
/// type, each taking what its body holds.
fn code_section(section: &Section, tank: u32) -> Result<Vec<u8>, FuelError> {
    let reader = CodeSectionReader::new(BinaryReader::new(section.content, section.offset))
        .map_err(error)?;
    let mut content = Vec::with_capacity(section.content.len() + section.content.len() / 4);
    write_uleb(&mut content, reader.count());
    let slice = |from: usize, to: usize| {
        section
            .content
            .get(from - section.offset..to - section.offset)
            .ok_or_else(|| error("a function body runs past its section"))
    };
    for body in reader {
        let body = body.map_err(error)?;
        let range = body.range();
        let (function_cost, loop_costs) = costs(&body)?;
        let mut loop_costs = loop_costs.into_iter();
        let mut operators = body.get_operators_reader().map_err(error)?;
        let start = operators.original_position();
        let mut rewritten = Vec::with_capacity(range.len() + range.len() / 4);
        rewritten.extend_from_slice(slice(range.start, start)?); // the locals
        rewritten.extend(check_snippet(tank, function_cost));
        let mut copied = start;
        while !operators.eof() {
            let operator = operators.read().map_err(error)?;
            if matches!(operator, Operator::Loop { .. }) {
                let after = operators.original_position();
                rewritten.extend_from_slice(slice(copied, after)?);
                let cost = loop_costs
                    .next()
                    .ok_or_else(|| error("a loop without its cost"))?;
                rewritten.extend(check_snippet(tank, cost));
                copied = after;
            }
        }
        rewritten.extend_from_slice(slice(copied, range.end)?);
        write_uleb(
            &mut content,
            u32::try_from(rewritten.len()).map_err(|_| error("a function body is too large"))?,
        );
        content.extend_from_slice(&rewritten);
    }
    Ok(content)
}

/// What a function's body costs on entry, and each of its loops' bodies (in the order the
/// loops start): their instructions, nested loops' excepted (each pays on its own entry).
fn costs(body: &wasmparser::FunctionBody) -> Result<(u64, Vec<u64>), FuelError> {
    // frames[0] is the function; then one per loop, in order of appearance. `open` holds, for
    // each block open now, the frame its instructions are counted in.
    let mut frames: Vec<u64> = vec![0];
    let mut open: Vec<usize> = vec![0];
    let mut operators = body.get_operators_reader().map_err(error)?;
    while !operators.eof() {
        let operator = operators.read().map_err(error)?;
        let frame = open.last().copied().unwrap_or(0);
        if let Some(cost) = frames.get_mut(frame) {
            *cost += 1;
        }
        match operator {
            Operator::Loop { .. } => {
                frames.push(0);
                open.push(frames.len() - 1);
            }
            Operator::Block { .. } | Operator::If { .. } | Operator::Try { .. } => open.push(frame),
            Operator::End => {
                open.pop();
            }
            _ => {}
        }
    }
    let mut frames = frames.into_iter();
    let function = frames.next().unwrap_or(0);
    Ok((function.max(1), frames.map(|c| c.max(1)).collect()))
}

/// `if (global.get $tank) < cost { trap } ; $tank -= cost`, the trap being a division by zero.
fn check_snippet(tank: u32, cost: u64) -> Vec<u8> {
    let cost = i64::try_from(cost).unwrap_or(i64::MAX);
    let mut out = Vec::new();
    let get = |out: &mut Vec<u8>| {
        out.push(0x23); // global.get
        write_uleb(out, tank);
    };
    let constant = |out: &mut Vec<u8>| {
        out.push(0x42); // i64.const
        write_sleb(out, cost);
    };
    get(&mut out);
    constant(&mut out);
    out.extend_from_slice(&[
        0x54, // i64.lt_u
        0x04, 0x40, // if (no result)
        0x41, 0x00, 0x41, 0x00, 0x6e, 0x1a, // i32.const 0 / i32.const 0 / i32.div_u / drop
        0x0b, // end
    ]);
    get(&mut out);
    constant(&mut out);
    out.push(0x7d); // i64.sub
    out.push(0x24); // global.set
    write_uleb(&mut out, tank);
    out
}

fn write_section(out: &mut Vec<u8>, id: u8, content: &[u8]) {
    out.push(id);
    write_uleb(out, u32::try_from(content.len()).unwrap_or(u32::MAX));
    out.extend_from_slice(content);
}

fn write_uleb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn write_sleb(out: &mut Vec<u8>, mut value: i64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
        if done {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_as_the_spec_writes_it() {
        let uleb = |v| {
            let mut out = Vec::new();
            write_uleb(&mut out, v);
            out
        };
        let sleb = |v| {
            let mut out = Vec::new();
            write_sleb(&mut out, v);
            out
        };
        assert_eq!(uleb(0), [0]);
        assert_eq!(uleb(127), [0x7f]);
        assert_eq!(uleb(128), [0x80, 0x01]);
        assert_eq!(uleb(624_485), [0xe5, 0x8e, 0x26]);
        assert_eq!(sleb(0), [0]);
        assert_eq!(sleb(63), [0x3f]);
        assert_eq!(sleb(64), [0xc0, 0x00]);
        assert_eq!(sleb(-1), [0x7f]);
        assert_eq!(sleb(-123_456), [0xc0, 0xbb, 0x78]);
        assert_eq!(sleb(1 << 30), [0x80, 0x80, 0x80, 0x80, 0x04]);
    }

    /// A module of one function `() -> ()` with `body` (locals included, `end` included).
    fn module(body: &[u8]) -> Vec<u8> {
        let mut wasm = vec![0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
        wasm.extend([1, 4, 1, 0x60, 0, 0]); // type: () -> ()
        wasm.extend([3, 2, 1, 0]); // one function of type 0
        let mut code = vec![1];
        write_uleb(&mut code, body.len() as u32);
        code.extend_from_slice(body);
        write_section(&mut wasm, 10, &code);
        wasm
    }

    #[test]
    fn what_is_written_in_is_valid_and_cannot_be_refilled() {
        // `loop br 0 end`: a global is added (the module had none), and each body pays.
        let spinning = module(&[0, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b]);
        let out = instrument(&spinning, 1000).unwrap();
        wasmparser::Validator::new().validate_all(&out).unwrap();
        assert!(out.len() > spinning.len());
        // A module that sets the global the tank will have (index 0 here) is invalid as written:
        // refused, so it cannot refill the tank once it exists.
        let refill = module(&[0, 0x42, 0x05, 0x24, 0x00, 0x0b]);
        let error = instrument(&refill, 1000).unwrap_err();
        assert!(error.to_string().contains("not valid wasm"), "{error}");
    }

    #[test]
    fn refuses_what_is_not_wasm() {
        assert!(instrument(b"not wasm", CALL_FUEL).is_err());
        assert!(instrument(&[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 10, 50], CALL_FUEL).is_err());
        let mut bomb = ZSTD_PREFIX.to_vec();
        bomb.extend_from_slice(b"garbage");
        assert!(instrument(&bomb, CALL_FUEL).is_err());
    }
}
