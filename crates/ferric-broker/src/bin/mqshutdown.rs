//! `mqshutdown broker|namesrv`: finds running `mqbroker` / `mqnamesrv` processes (and
//! `ferric`, which runs both) through `/proc` and sends them SIGTERM.

use std::process::ExitCode;

const USAGE: &str = "Usage: mqshutdown broker | namesrv";

/// `mqshutdown --help`.
const HELP: &str = "\
Usage: mqshutdown broker | namesrv

Sends SIGTERM to every running mqbroker (broker) or mqnamesrv (namesrv) process of this machine,
and to ferric, which runs both. Exits 1 when none is running or a signal could not be sent.

Options:
  -h, --help  Print this help";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Action {
    Help,
    Usage,
    Shutdown {
        label: &'static str,
        targets: &'static [&'static str],
    },
}

fn action(args: &[String]) -> Action {
    match args.first().map(String::as_str) {
        Some("-h" | "--help" | "help") => Action::Help,
        Some("broker") => Action::Shutdown {
            label: "mqbroker",
            targets: &["mqbroker", "ferric"],
        },
        Some("namesrv") => Action::Shutdown {
            label: "mqnamesrv",
            targets: &["mqnamesrv", "ferric"],
        },
        _ => Action::Usage,
    }
}

fn process_name(pid: u32) -> Option<String> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let argv0 = cmdline.split(|b| *b == 0).next()?;
    let argv0 = String::from_utf8_lossy(argv0);
    let name = argv0.rsplit('/').next()?.to_owned();
    Some(name)
}

fn find(targets: &[&str]) -> Vec<(u32, String)> {
    let own = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found: Vec<(u32, String)> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != own)
        .filter_map(|pid| {
            let name = process_name(pid)?;
            targets.contains(&name.as_str()).then_some((pid, name))
        })
        .collect();
    found.sort();
    found
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (label, targets) = match action(&args) {
        Action::Shutdown { label, targets } => (label, targets),
        Action::Help => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Action::Usage => {
            println!("{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let running = find(targets);
    if running.is_empty() {
        println!("No {label} running.");
        return ExitCode::FAILURE;
    }
    let mut failed = false;
    for (pid, _) in running {
        println!("The {label}({pid}) is running...");
        let signalled = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .map(|p| rustix::process::kill_process(p, rustix::process::Signal::TERM));
        match signalled {
            Some(Ok(())) => println!("Send shutdown request to {label}({pid}) OK"),
            _ => {
                eprintln!("Send shutdown request to {label}({pid}) failed");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn help_is_an_action_of_its_own() {
        assert_eq!(action(&args(&["--help"])), Action::Help);
        assert_eq!(action(&args(&["-h"])), Action::Help);
        assert_eq!(action(&args(&[])), Action::Usage);
        assert_eq!(action(&args(&["proxy"])), Action::Usage);
        assert_eq!(
            action(&args(&["namesrv"])),
            Action::Shutdown {
                label: "mqnamesrv",
                targets: &["mqnamesrv", "ferric"]
            }
        );
        assert!(HELP.starts_with(USAGE));
    }
}
