//! `dumpsummary FILE.dmp`: read a minidump with an independent reader (rust-minidump) and print
//! what it holds: the process, its threads, modules, memory ranges and handles. `cargo xtask
//! dump` runs it on what `pssdump` wrote.

use std::error::Error;
use std::process::ExitCode;

use minidump::{
    Minidump, MinidumpHandleDataStream, MinidumpMemory64List, MinidumpMemoryInfoList,
    MinidumpMiscInfo, MinidumpModuleList, MinidumpSystemInfo, MinidumpThreadList, Module,
};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dumpsummary: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: dumpsummary FILE.dmp")?;
    let dump = Minidump::read(std::fs::read(&path)?)?;
    println!("dump:    {path} (read with rust-minidump)");
    let system: MinidumpSystemInfo = dump.get_stream()?;
    println!("system:  {:?}, {}", system.cpu, system.os);
    let misc: Option<MinidumpMiscInfo> = dump.get_stream().ok();
    if let Some(pid) = misc.as_ref().and_then(|m| m.raw.process_id()) {
        println!("process: {pid}");
    }
    let threads: MinidumpThreadList<'_> = dump.get_stream()?;
    let ids: Vec<String> = threads
        .threads
        .iter()
        .map(|t| format!("{:#x}", t.raw.thread_id))
        .collect();
    let with_context = threads
        .threads
        .iter()
        .filter(|t| t.raw.thread_context.data_size > 0)
        .count();
    println!(
        "threads: {} ({}), {with_context} with a context record",
        ids.len(),
        ids.join(" ")
    );
    let modules: MinidumpModuleList = dump.get_stream()?;
    println!("modules: {}", modules.iter().count());
    for module in modules.iter() {
        println!(
            "  {:#014x} {:>10} {}",
            module.raw.base_of_image, module.raw.size_of_image, module.name
        );
        // What a symbol server is asked for: the PDB and its identifier (CodeView record).
        if let (Some(file), Some(id)) = (module.debug_file(), module.debug_identifier()) {
            println!("  {:>25} {file} {}", "", id.breakpad());
        }
    }
    match dump.get_stream::<MinidumpMemoryInfoList<'_>>() {
        Ok(info) => println!("regions: {} described", info.iter().count()),
        Err(_) => println!("regions: not in this dump"),
    }
    match dump.get_stream::<MinidumpMemory64List<'_>>() {
        Ok(memory) => {
            let bytes: u64 = memory.iter().map(|m| m.size).sum();
            println!("memory:  {} ranges, {bytes} bytes", memory.iter().count());
        }
        Err(_) => println!("memory:  no full memory in this dump"),
    }
    match dump.get_stream::<MinidumpHandleDataStream>() {
        Ok(handles) => {
            let named = handles
                .handles
                .iter()
                .filter(|h| h.object_name.is_some())
                .count();
            println!("handles: {}, {named} named", handles.handles.len());
        }
        Err(_) => println!("handles: not in this dump"),
    }
    Ok(())
}
